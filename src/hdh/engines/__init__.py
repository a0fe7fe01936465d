"""Data engines behind one protocol (ARCHITECTURE rule 5).

Callers ask :func:`get_engine` for an :class:`~hdh.engines.base.Engine` and
speak only to it. The DuckDB engine is registered here the same way another
engine would be; each engine's library is imported only when it is used.
"""

from hdh.engines.base import ColumnProfile, Engine, ParquetWritten, Source
from hdh.engines.registry import available, get_engine, register

__all__ = [
    "ColumnProfile",
    "Engine",
    "ParquetWritten",
    "Source",
    "available",
    "get_engine",
    "register",
]
