from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _own_key_store(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.HDH_KEY_STORE = tmp_path / "keys"
