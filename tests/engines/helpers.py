"""Engine-neutral SQL for tests."""

from __future__ import annotations

from hdh.engines import available

ENGINES = available()


def numbers(count: int) -> str:
    """A relation of one BIGINT column ``n`` from 0 to ``count - 1``, on every engine."""
    return f"(SELECT * FROM range({int(count)}) AS t(n))"
