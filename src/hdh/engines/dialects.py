"""SQL dialect differences between engines, in one place (STYLE item 7).

Everything an engine says in SQL that is not standard goes through a
:class:`Dialect`; shared code in :mod:`hdh.engines.base` never spells an
engine-specific function.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hdh.engines.types import Column


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class Dialect:
    name = "ansi"

    def quote(self, identifier: str) -> str:
        return '"' + identifier.replace('"', '""') + '"'

    def literal(self, value: str) -> str:
        return quote_literal(value)

    def path(self, path: Path) -> str:
        return quote_literal(str(path))

    def read_parquet(self, paths: Sequence[Path], *, row_numbers: bool = False) -> str:
        raise NotImplementedError

    def read_csv(
        self,
        path: Path,
        *,
        delimiter: str,
        columns: Sequence[str],
        encoding: str,
        max_line_bytes: int,
    ) -> str:
        raise NotImplementedError

    def row_number_column(self) -> str:
        """The 0-based row position that :meth:`read_parquet` adds with ``row_numbers``."""
        raise NotImplementedError

    def try_cast(self, expression: str, column: Column) -> str:
        """``expression`` (text) as ``column``'s storage type, or NULL where it does not parse."""
        storage = column.storage
        if storage in {"date", "datetime"}:
            target = "DATE" if storage == "date" else "TIMESTAMP"
            patterns = [column.pattern] if column.pattern else self.default_date_patterns(storage)
            parsed = self.try_strptime(expression, patterns)
            return f"COALESCE(TRY_CAST({expression} AS {target}), CAST({parsed} AS {target}))"
        if storage == "yearmonth":
            return (
                f"CASE WHEN regexp_full_match({expression}, '[0-9]{{4}}-?[0-9]{{2}}') "
                f"THEN replace({expression}, '-', '') END"
            )
        if storage == "boolean":
            return (
                f"CASE lower({expression}) WHEN '1' THEN TRUE WHEN '0' THEN FALSE "
                f"WHEN 'true' THEN TRUE WHEN 'false' THEN FALSE WHEN 'o' THEN TRUE "
                f"WHEN 'oui' THEN TRUE WHEN 'n' THEN FALSE WHEN 'non' THEN FALSE END"
            )
        if storage in {"integer", "year"}:
            # "12.0" is an integer written by a spreadsheet; "12.5" is not. The
            # plain cast comes first: COALESCE stops at the first value.
            number = f"TRY_CAST(replace({expression}, ',', '.') AS DOUBLE)"
            return (
                f"COALESCE(TRY_CAST({expression} AS {column.sql_type}), "
                f"CASE WHEN {number} = floor({number}) "
                f"THEN TRY_CAST({number} AS {column.sql_type}) END)"
            )
        if storage == "number":
            return (
                f"COALESCE(TRY_CAST({expression} AS DOUBLE), "
                f"TRY_CAST(replace({expression}, ',', '.') AS DOUBLE))"
            )
        return expression

    def default_date_patterns(self, storage: str) -> list[str]:
        if storage == "date":
            return ["%d/%m/%Y", "%Y%m%d", "%d%m%Y"]
        return ["%d/%m/%Y %H:%M:%S", "%d%b%Y:%H:%M:%S", "%Y-%m-%dT%H:%M:%S"]

    def try_strptime(self, expression: str, patterns: Sequence[str]) -> str:
        raise NotImplementedError

    def text_length(self, expression: str) -> str:
        return f"length({expression})"

    def as_text(self, expression: str) -> str:
        return f"CAST({expression} AS VARCHAR)"

    def distinct_count(self, expression: str) -> str:
        return f"count(DISTINCT {expression})"


class DuckDBDialect(Dialect):
    name = "duckdb"

    def read_parquet(self, paths: Sequence[Path], *, row_numbers: bool = False) -> str:
        files = "[" + ", ".join(self.path(p) for p in paths) + "]"
        extra = ", file_row_number=true" if row_numbers else ""
        return f"read_parquet({files}{extra})"

    def read_csv(
        self,
        path: Path,
        *,
        delimiter: str,
        columns: Sequence[str],
        encoding: str,
        max_line_bytes: int,
    ) -> str:
        # Every option is given, so DuckDB's sniffer never guesses: a ragged or
        # badly quoted line is an error with its line number, not a silent fix.
        names = ", ".join(f"{self.literal(c)}: 'VARCHAR'" for c in columns)
        return (
            f"read_csv({self.path(path)}, delim={self.literal(delimiter)}, header=true, "
            f"auto_detect=false, quote='\"', escape='\"', strict_mode=true, "
            f"encoding={self.literal(encoding)}, max_line_size={int(max_line_bytes)}, "
            f"columns={{{names}}})"
        )

    def row_number_column(self) -> str:
        return "file_row_number"

    def try_strptime(self, expression: str, patterns: Sequence[str]) -> str:
        listed = "[" + ", ".join(self.literal(p) for p in patterns) + "]"
        return f"try_strptime({expression}, {listed})"
