"""Every engine test runs on every registered engine (ARCHITECTURE rule 5): take the
``engine`` fixture and the test is parametrised over them.

Spark starts one application (one JVM) for the whole test session; each test gets
a light session of it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hdh.engines import Engine, get_engine
from tests.engines.helpers import ENGINES


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    with get_engine(request.param) as session:
        yield session


@pytest.fixture
def engines() -> Iterator[dict[str, Engine]]:
    """One session of each engine, for tests that compare their results."""
    opened = {name: get_engine(name) for name in ENGINES}
    try:
        yield opened
    finally:
        for session in opened.values():
            session.close()
