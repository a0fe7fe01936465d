"""Every engine test runs on every registered engine (ARCHITECTURE rule 5): take the
``engine`` fixture and the test is parametrised over them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hdh.engines import Engine, available, get_engine


@pytest.fixture(params=available())
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    with get_engine(request.param) as session:
        yield session
