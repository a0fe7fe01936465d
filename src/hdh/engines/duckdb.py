# SQL here is built from catalogued names, each quoted by the dialect, and from
# literals escaped by it; no user value is ever spliced in.
# ruff: noqa: S608
"""The embedded DuckDB engine. ``duckdb`` is imported only when one is created."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hdh.engines.base import Engine
from hdh.engines.dialects import DuckDBDialect


class DuckDBEngine(Engine):
    name = "duckdb"
    dialect = DuckDBDialect()

    def __init__(
        self,
        *,
        threads: int | None = None,
        memory_limit: str | None = None,
        workdir: Path | None = None,
        database: str = ":memory:",
    ) -> None:
        super().__init__(workdir=workdir)
        import duckdb

        self._connection = duckdb.connect(database)
        self.execute(f"SET temp_directory = {self.dialect.path(self.workdir / 'spill')}")
        if threads:
            self.execute(f"SET threads = {int(threads)}")
        if memory_limit:
            self.execute(f"SET memory_limit = {self.dialect.literal(memory_limit)}")

    def execute(self, sql: str) -> None:
        self._connection.execute(sql).fetchall()

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        return list(self._connection.execute(sql).fetchall())

    def columns(self, sql: str) -> list[tuple[str, str]]:
        relation = self._connection.sql(f"SELECT * FROM ({sql}) LIMIT 0")
        return [
            (name, str(kind)) for name, kind in zip(relation.columns, relation.types, strict=True)
        ]

    def register_arrow(self, name: str, table: Any) -> None:
        self._connection.register(name, table)

    def unregister(self, name: str) -> None:
        self._connection.unregister(name)

    def native(self) -> Any:
        return self._connection

    def _copy_to_parquet(self, sql: str, path: Path) -> None:
        self.execute(
            f"COPY ({sql}) TO {self.dialect.path(path)} "
            "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)"
        )

    def _close(self) -> None:
        self._connection.close()
