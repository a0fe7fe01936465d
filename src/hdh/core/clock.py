"""The one clock of the platform.

Deadlines, expiries, lock-outs, session limits and audit seals all read the time
here, so tests can move it (``with clock.frozen(...)`` or ``clock.advance(...)``)
and every part sees the same instant.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

UTC = dt.UTC

_local = threading.local()
_provider: Callable[[], dt.datetime] | None = None


def _system_now() -> dt.datetime:
    return dt.datetime.now(tz=UTC)


def now() -> dt.datetime:
    """The current instant, timezone-aware, in UTC."""
    provider = _provider or _system_now
    value = provider()
    if value.tzinfo is None:
        raise ValueError("the clock must return an aware datetime")
    return value.astimezone(UTC)


def today() -> dt.date:
    """The current UTC date."""
    return now().date()


@contextmanager
def frozen(at: dt.datetime) -> Iterator[FrozenClock]:
    """Freeze the platform clock at ``at`` (aware) for the duration of the block."""
    global _provider
    if at.tzinfo is None:
        raise ValueError("frozen() needs an aware datetime")
    clock = FrozenClock(at)
    previous = _provider
    _provider = clock
    try:
        yield clock
    finally:
        _provider = previous


class FrozenClock:
    def __init__(self, at: dt.datetime) -> None:
        self.at = at.astimezone(UTC)

    def __call__(self) -> dt.datetime:
        return self.at

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        self.at = self.at + delta
        return self.at
