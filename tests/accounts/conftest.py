from __future__ import annotations

from collections.abc import Iterator

import pytest

from hdh.core import clock
from tests.accounts.helpers import T0


@pytest.fixture
def frozen() -> Iterator[clock.FrozenClock]:
    """The platform clock, stopped at ``T0``; move it with ``frozen.advance(...)``."""
    with clock.frozen(T0) as frozen_clock:
        yield frozen_clock
