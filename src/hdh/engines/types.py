"""Logical column types (Frictionless Table Schema) and how each engine stores them.

The catalog describes variables with Table Schema types; the lake stores them
as Parquet. This module is the one mapping between the two, so a date is a
date whichever engine wrote it.
"""

from __future__ import annotations

from dataclasses import dataclass

# Table Schema type -> portable SQL type (both DuckDB and Spark SQL spell these).
SQL_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "datetime": "TIMESTAMP",
    "year": "INTEGER",
    "yearmonth": "VARCHAR",
    "time": "VARCHAR",
}
NUMERIC = frozenset({"integer", "number", "year"})
TEMPORAL = frozenset({"date", "datetime"})


@dataclass(frozen=True)
class Column:
    """What an engine needs to know about one column: its name and logical type."""

    name: str
    type: str = "string"
    # Table Schema ``format``: "default", "any" or a strftime pattern such as "%d%m%Y".
    format: str = ""

    @property
    def storage(self) -> str:
        """The logical type actually stored.

        A "date" whose pattern has no day or no year (SNDS months of birth, ``%m``)
        cannot be a calendar date; it is kept as text.
        """
        if (
            self.type == "date"
            and self.format.startswith("%")
            and not ("%d" in self.format and ("%Y" in self.format or "%y" in self.format))
        ):
            return "string"
        return self.type if self.type in SQL_TYPES else "string"

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.storage]

    @property
    def pattern(self) -> str:
        """The strftime pattern of a date or datetime given as text, if any."""
        return self.format if self.format.startswith("%") else ""
