# SQL here is built from catalogued names, each quoted by the dialect, and from
# literals escaped by it; no user value is ever spliced in.
# ruff: noqa: S608
"""The :class:`Engine` every data engine implements (ARCHITECTURE rule 5).

Shared behaviour lives here once: reading the lake's source formats, atomic
Parquet writes, profiling. A backend overrides only the few primitives marked
abstract (run SQL, fetch rows, copy a query to Parquet, register Arrow data)
and supplies its :class:`~hdh.engines.dialects.Dialect`.
"""

from __future__ import annotations

import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Self

from hdh.engines import files, readstat
from hdh.engines.dialects import Dialect
from hdh.engines.types import NUMERIC, TEMPORAL, Column

FORMATS = ("csv", "parquet", "sas", "stata")
DEFAULT_MAX_LINE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Source:
    """Files of one format to read as one relation."""

    paths: tuple[Path, ...]
    format: str
    delimiter: str = ","
    encoding: str = "utf-8"
    # CSV only: the header's column names (every value is read as text).
    columns: tuple[str, ...] = ()
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    row_numbers: bool = False

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"unknown source format {self.format!r}")
        if not self.paths:
            raise ValueError("a source needs at least one file")


@dataclass(frozen=True)
class ParquetWritten:
    path: Path
    rows: int
    bytes: int
    sha256: str


@dataclass
class ColumnProfile:
    """Raw statistics of one column. Publishing rules (small counts) are the caller's."""

    name: str
    type: str
    rows: int
    non_null: int
    distinct: int
    minimum: str | None
    maximum: str | None
    top: list[tuple[str, int]] = field(default_factory=list)
    histogram: list[tuple[float, float, int]] = field(default_factory=list)


class Engine(ABC):
    name: ClassVar[str]
    dialect: ClassVar[Dialect]

    def __init__(self, *, workdir: Path | None = None) -> None:
        self._own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix=f"hdh-{self.name}-"))
        self.workdir.mkdir(parents=True, exist_ok=True)

    # --- primitives each backend implements ------------------------------------
    @abstractmethod
    def execute(self, sql: str) -> None:
        """Run a statement that returns nothing."""

    @abstractmethod
    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        """Run a query and return all its rows."""

    @abstractmethod
    def columns(self, sql: str) -> list[tuple[str, str]]:
        """Names and engine types of a query's columns, without running it whole."""

    @abstractmethod
    def register_arrow(self, name: str, table: Any) -> None:
        """Make a ``pyarrow.Table`` queryable as ``name``."""

    @abstractmethod
    def unregister(self, name: str) -> None:
        """Forget a table made queryable by :meth:`register_arrow` (no error if absent)."""

    @abstractmethod
    def native(self) -> Any:
        """The backend's own handle (a DuckDB connection, a Spark session), for libraries
        that speak to the backend directly, such as Splink. Use the SQL methods otherwise."""

    @abstractmethod
    def _copy_to_parquet(self, sql: str, path: Path) -> None:
        """Write the result of ``sql`` to one Parquet file at ``path``."""

    @abstractmethod
    def _close(self) -> None:
        """Release the backend's resources."""

    # --- shared behaviour ------------------------------------------------------
    def close(self) -> None:
        self._close()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def quote(self, identifier: str) -> str:
        return self.dialect.quote(identifier)

    def scalar(self, sql: str) -> Any:
        rows = self.fetch(sql)
        return rows[0][0] if rows else None

    def relation(self, source: Source) -> str:
        """A FROM-clause expression reading ``source``."""
        if source.format == "csv":
            if len(source.paths) != 1:
                raise ValueError("a CSV source is one file")
            return self.dialect.read_csv(
                source.paths[0],
                delimiter=source.delimiter,
                columns=source.columns,
                encoding=source.encoding,
                max_line_bytes=source.max_line_bytes,
            )
        if source.format == "parquet":
            return self.dialect.read_parquet(source.paths, row_numbers=source.row_numbers)
        # SAS and Stata: streamed through ReadStat into Parquet first.
        staged = [
            readstat.to_parquet(path, self.workdir / f"{i}-{path.stem}.parquet", source.format)
            for i, path in enumerate(source.paths)
        ]
        return self.dialect.read_parquet(staged, row_numbers=source.row_numbers)

    def count(self, relation: str) -> int:
        return int(self.scalar(f"SELECT count(*) FROM {relation}"))

    def write_parquet(self, sql: str, target: Path) -> ParquetWritten:
        """Write ``sql``'s result to ``target`` atomically: temp file, fsync, rename."""
        with files.atomic_path(target) as temporary:
            self._copy_to_parquet(sql, temporary)
            rows = self._rows_written(temporary)
            written = ParquetWritten(
                path=target,
                rows=rows,
                bytes=temporary.stat().st_size,
                sha256=files.sha256_of(temporary),
            )
        return written

    def _rows_written(self, path: Path) -> int:
        """Rows in the Parquet file just written at ``path`` (a hidden temporary name)."""
        return self.count(self.dialect.read_parquet([path]))

    def profile(
        self,
        relation: str,
        columns: Sequence[Column],
        *,
        top: int = 10,
        bins: int = 10,
        min_frequency: int = 1,
    ) -> list[ColumnProfile]:
        """Completeness, distinct count, range and distribution of each column.

        With ``min_frequency`` above 1, the range (and so the histogram's edges)
        covers only values that at least that many rows hold.
        """
        if not columns:
            return []
        q = self.quote
        parts = ["count(*)"]
        for column in columns:
            ref = q(column.name)
            parts += [
                f"count({ref})",
                self.dialect.distinct_count(ref),
                self.dialect.as_text(f"min({ref})"),
                self.dialect.as_text(f"max({ref})"),
            ]
            if column.storage in NUMERIC:
                parts += [f"CAST(min({ref}) AS DOUBLE)", f"CAST(max({ref}) AS DOUBLE)"]
            else:
                parts += ["NULL", "NULL"]
        row = self.fetch(f"SELECT {', '.join(parts)} FROM {relation}")[0]
        rows = int(row[0])
        profiles = []
        for index, column in enumerate(columns):
            non_null, distinct, minimum, maximum, low, high = row[1 + 6 * index : 7 + 6 * index]
            profile = ColumnProfile(
                name=column.name,
                type=column.storage,
                rows=rows,
                non_null=int(non_null),
                distinct=int(distinct),
                minimum=minimum,
                maximum=maximum,
            )
            if min_frequency > 1 and non_null:
                minimum, maximum, low, high = self._frequent_range(relation, column, min_frequency)
                profile.minimum, profile.maximum = minimum, maximum
            if column.storage in NUMERIC and low is not None:
                profile.histogram = self._histogram(relation, column, float(low), float(high), bins)
            elif column.storage not in TEMPORAL and non_null:
                profile.top = self._top(relation, column, top)
            profiles.append(profile)
        return profiles

    def _frequent_range(
        self, relation: str, column: Column, min_frequency: int
    ) -> tuple[str | None, str | None, float | None, float | None]:
        ref = self.quote(column.name)
        numeric = column.storage in NUMERIC
        as_double = "CAST(min(v) AS DOUBLE), CAST(max(v) AS DOUBLE)" if numeric else "NULL, NULL"
        row = self.fetch(
            f"SELECT {self.dialect.as_text('min(v)')}, {self.dialect.as_text('max(v)')}, "
            f"{as_double} FROM (SELECT {ref} AS v FROM {relation} WHERE {ref} IS NOT NULL "
            f"GROUP BY v HAVING count(*) >= {int(min_frequency)})"
        )[0]
        return row[0], row[1], row[2], row[3]

    def _top(self, relation: str, column: Column, limit: int) -> list[tuple[str, int]]:
        ref = self.quote(column.name)
        rows = self.fetch(
            f"SELECT {self.dialect.as_text(ref)} AS v, count(*) AS n FROM {relation} "
            f"WHERE {ref} IS NOT NULL GROUP BY v ORDER BY n DESC, v LIMIT {int(limit)}"
        )
        return [(str(value), int(n)) for value, n in rows]

    def _histogram(
        self, relation: str, column: Column, low: float, high: float, bins: int
    ) -> list[tuple[float, float, int]]:
        ref = self.quote(column.name)
        if high == low:
            return [(low, high, self.count(f"{relation} WHERE {ref} IS NOT NULL"))]
        width = (high - low) / bins
        position = f"CAST(floor((CAST({ref} AS DOUBLE) - {low!r}) / {width!r}) AS BIGINT)"
        bucket = f"greatest(0, least({position}, {bins - 1}))"
        counts = dict(
            self.fetch(
                f"SELECT {bucket} AS b, count(*) FROM {relation} WHERE {ref} IS NOT NULL GROUP BY b"
            )
        )
        return [
            (low + i * width, low + (i + 1) * width, int(counts.get(i, 0))) for i in range(bins)
        ]
