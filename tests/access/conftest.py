from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hdh.core import clock
from tests.accounts.helpers import T0
from tests.factories.access import Staff


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def frozen() -> Iterator[clock.FrozenClock]:
    """The platform clock, stopped at ``T0`` (a Monday); move it with ``frozen.advance``."""
    with clock.frozen(T0) as frozen_clock:
        yield frozen_clock


@pytest.fixture
def team() -> Staff:
    return Staff()
