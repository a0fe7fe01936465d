from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.core.cache import cache

from hdh.keys.store import KeyStore

NIR = "187026331917980"
BIRTH = dt.date(1987, 2, 28)
SEX = 1


@pytest.fixture(autouse=True)
def _own_key_store(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "keys"
    KeyStore(path).init()
    settings.HDH_KEY_STORE = path


@pytest.fixture(autouse=True)
def _fresh_throttle() -> None:
    cache.clear()


def identity(**changes: str) -> dict[str, str]:
    data = {
        "nir": NIR,
        "birth_date": BIRTH.isoformat(),
        "sex": str(SEX),
        "last_name": "Martin",
        "first_name": "Jeanne-Marie",
        "confirm": "on",
        "website": "",
    }
    data.update(changes)
    return data
