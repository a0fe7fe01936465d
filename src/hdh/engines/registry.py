"""Which engines exist. Built-in engines register here like any other would."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from hdh.engines.base import Engine

# name -> "module:Class", imported on first use so that an engine's library is
# loaded only by the processes that use it.
_factories: dict[str, str | Callable[..., Engine]] = {
    "duckdb": "hdh.engines.duckdb:DuckDBEngine",
    "spark": "hdh.engines.spark:SparkEngine",
}


def register(name: str, factory: str | Callable[..., Engine]) -> None:
    """Make an engine available under ``name`` (a dotted ``module:Class`` or a callable)."""
    _factories[name] = factory


def available() -> list[str]:
    return sorted(_factories)


def get_engine(name: str = "duckdb", **options: Any) -> Engine:
    """A new engine session; close it (or use it as a context manager) when done."""
    try:
        factory = _factories[name]
    except KeyError:
        raise ValueError(f"unknown engine {name!r}; available: {', '.join(available())}") from None
    if isinstance(factory, str):
        module, _, attribute = factory.partition(":")
        factory = getattr(importlib.import_module(module), attribute)
    engine = factory(**options)
    if not isinstance(engine, Engine):
        raise TypeError(f"engine {name!r} does not implement hdh.engines.Engine")
    return engine
