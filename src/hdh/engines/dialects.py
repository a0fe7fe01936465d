"""SQL dialect differences between engines, in one place (STYLE item 7).

Everything an engine says in SQL that is not standard goes through a
:class:`Dialect`; shared code in :mod:`hdh.engines.base` never spells an
engine-specific function.
"""

from __future__ import annotations

import codecs
import hashlib
from collections.abc import Sequence
from pathlib import Path

from hdh.engines.types import Column


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def hmac_pads(key: bytes) -> tuple[str, str]:
    """RFC 2104 inner and outer pads of ``key`` for SHA-256, as hex (64 bytes each)."""
    if not isinstance(key, bytes) or not key:
        raise ValueError("an HMAC key is non-empty bytes")
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in key).hex(), bytes(b ^ 0x5C for b in key).hex()


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
            return self._try_cast_calendar(expression, column)
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
            # plain cast comes first (COALESCE stops at the first value) and only
            # takes ASCII digits: DuckDB's TRY_CAST would round "12.5" to 13.
            number = f"TRY_CAST(replace({expression}, ',', '.') AS DOUBLE)"
            digits = f"regexp_full_match({expression}, '\\s*[+-]?[0-9]+\\s*')"
            return (
                f"COALESCE(CASE WHEN {digits} "
                f"THEN TRY_CAST({expression} AS {column.sql_type}) END, "
                # Beyond 2**53 a double no longer holds every integer exactly.
                f"CASE WHEN {number} = floor({number}) AND abs({number}) < 9007199254740992 "
                f"THEN TRY_CAST({number} AS {column.sql_type}) END)"
            )
        if storage == "number":
            return (
                f"COALESCE(TRY_CAST({expression} AS DOUBLE), "
                f"TRY_CAST(replace({expression}, ',', '.') AS DOUBLE))"
            )
        return expression

    def _try_cast_calendar(self, expression: str, column: Column) -> str:
        """Text as a DATE or TIMESTAMP, by one rule on every engine.

        A value is a date only if it is *exactly* written in one of the accepted
        formats: ISO 8601 (``YYYY-MM-DD``, month and day of one or two digits,
        as Python's ``strptime("%Y-%m-%d")``, Table Schema's reference, reads
        them; for a datetime, an optional ``[ T]HH:MM[:SS[.fraction]]``), then
        the column's pattern, or else the defaults (:meth:`default_date_patterns`),
        first match wins. Digits are ASCII digits. Anything else is NULL: a
        surrounding blank or a trailing newline (callers trim, as the lake
        does), full-width digits, a time part on a date, a day or month out of
        range ("31/02/2020"), a year or a month alone. Each format is first
        matched as a shape (:func:`date_shape`) and only then parsed by the
        engine, because engines are lenient in different ways (DuckDB's cast
        drops a time part and trailing whitespace, Spark's takes "2020" as a
        date, Java reads any Unicode digit); the engine's parser then checks the
        calendar. A field written next to another field (``%d%m%Y``) has its
        full width (two digits for a day), so a value splits one way only.
        """
        date = column.storage == "date"
        target = "DATE" if date else "TIMESTAMP"
        iso = _ISO_DATE if date else _ISO_TIMESTAMP
        patterns = (
            [column.pattern] if column.pattern else self.default_date_patterns(column.storage)
        )
        parts = [
            f"CASE WHEN {self.full_match(expression, iso)} "
            f"THEN TRY_CAST({expression} AS {target}) END"
        ]
        for pattern in patterns:
            parsed = self.try_strptime(expression, [pattern])
            parts.append(
                f"CASE WHEN {self.full_match(expression, date_shape(pattern))} "
                f"THEN CAST({parsed} AS {target}) END"
            )
        return f"COALESCE({', '.join(parts)})"

    def full_match(self, expression: str, regex: str) -> str:
        """TRUE when the whole of ``expression`` matches ``regex`` (RE2 and Java syntax)."""
        return f"regexp_full_match({expression}, {self.literal(regex)})"

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

    def hmac_sha256_hex(self, key: bytes, expression: str) -> str:
        """Lowercase hex HMAC-SHA-256 under ``key`` of the UTF-8 text ``expression``.

        The key is inlined as a hex literal: never log SQL that holds one.
        """
        raise NotImplementedError

    def date_literal(self, value: str) -> str:
        """A DATE literal from an ISO date (``YYYY-MM-DD``, checked)."""
        import datetime as dt

        return f"DATE '{dt.date.fromisoformat(value).isoformat()}'"

    def hex_to_bigint(self, expression: str) -> str:
        """The non-negative integer written by ``expression``, up to 15 hex digits."""
        raise NotImplementedError

    def add_days(self, expression: str, days: str, *, timestamp: bool = False) -> str:
        """``expression`` (a DATE, or a TIMESTAMP with ``timestamp``) moved by ``days`` days."""
        raise NotImplementedError

    def truncate_date(self, expression: str, unit: str, *, timestamp: bool = False) -> str:
        """``expression`` cut to the first day of its ``unit`` ("month" or "year"), same type."""
        raise NotImplementedError


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

    def hmac_sha256_hex(self, key: bytes, expression: str) -> str:
        # Pure SQL (no extension to vendor): sha256 of BLOBs, RFC 2104 construction.
        inner, outer = hmac_pads(key)
        return (
            f"sha256(unhex('{outer}') || unhex(sha256(unhex('{inner}') "
            f"|| encode(CAST({expression} AS VARCHAR)))))"
        )

    def hex_to_bigint(self, expression: str) -> str:
        return f"CAST(('0x' || {expression}) AS BIGINT)"

    def add_days(self, expression: str, days: str, *, timestamp: bool = False) -> str:
        kind = "TIMESTAMP" if timestamp else "DATE"
        return f"CAST({expression} + to_days(CAST({days} AS INTEGER)) AS {kind})"

    def truncate_date(self, expression: str, unit: str, *, timestamp: bool = False) -> str:
        if unit not in {"month", "year"}:
            raise ValueError("dates are truncated to a month or a year")
        kind = "TIMESTAMP" if timestamp else "DATE"
        return f"CAST(date_trunc('{unit}', {expression}) AS {kind})"


# strftime directive -> Spark datetime pattern letter (doubled when next to another field,
# because Spark, like Java, reads a single letter as "one or more digits").
_SPARK_FIELDS = {
    "Y": "yyyy",
    "y": "yy",
    "m": "M",
    "d": "d",
    "H": "H",
    "I": "h",
    "M": "m",
    "S": "s",
    "f": "SSSSSS",
    "j": "D",
    "b": "MMM",
    "B": "MMMM",
    "p": "a",
}
# strftime directive -> the text it reads, alone and next to another field (full width).
_SHAPES = {
    "Y": ("[0-9]{4}", "[0-9]{4}"),
    "y": ("[0-9]{2}", "[0-9]{2}"),
    "m": ("[0-9]{1,2}", "[0-9]{2}"),
    "d": ("[0-9]{1,2}", "[0-9]{2}"),
    "H": ("[0-9]{1,2}", "[0-9]{2}"),
    "I": ("[0-9]{1,2}", "[0-9]{2}"),
    "M": ("[0-9]{1,2}", "[0-9]{2}"),
    "S": ("[0-9]{1,2}", "[0-9]{2}"),
    "f": ("[0-9]{6}", "[0-9]{6}"),
    "j": ("[0-9]{1,3}", "[0-9]{3}"),
    "b": ("[A-Za-z]{3}", "[A-Za-z]{3}"),
    "B": ("[A-Za-z]{3,9}", "[A-Za-z]{3,9}"),
    "p": ("[AaPp][Mm]", "[AaPp][Mm]"),
}
# Whole-value shapes (no anchors: Dialect.full_match anchors them).
_ISO_DATE = "[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
_ISO_TIMESTAMP = (
    "[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([ T][0-9]{1,2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,9})?)?)?"
)
_REGEX_SPECIAL = frozenset(".^$*+?()[]{}|\\")
# Java reads any Unicode digit (full-width ones too) as a digit; DuckDB only ASCII ones.
_ASCII_INTEGER = "^\\s*[+-]?[0-9]+\\s*\\z"


def _pattern_tokens(pattern: str) -> list[tuple[bool, str, bool]]:
    """A strftime pattern as (is a field, directive or literal text, next to a field)."""
    tokens: list[tuple[bool, str]] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "%" and index + 1 < len(pattern):
            directive = pattern[index + 1]
            index += 2
            if directive == "%":
                tokens.append((False, "%"))
            elif directive in _SPARK_FIELDS:
                tokens.append((True, directive))
            else:
                raise ValueError(f"unsupported date directive %{directive}")
        else:
            tokens.append((False, char))
            index += 1
    out = []
    for position, (is_field, text) in enumerate(tokens):
        before = position > 0 and tokens[position - 1][0]
        after = position + 1 < len(tokens) and tokens[position + 1][0]
        out.append((is_field, text, is_field and (before or after)))
    return out


def date_shape(pattern: str) -> str:
    """The text a strftime ``pattern`` accepts, as a regular expression (ASCII digits only).

    ``%d%m%Y`` is ``[0-9]{2}[0-9]{2}[0-9]{4}``: a field next to another field has
    its full width, so both engines split the value the same way.
    """
    parts = []
    for is_field, text, adjacent in _pattern_tokens(pattern):
        if is_field:
            alone, full = _SHAPES[text]
            parts.append(full if adjacent else alone)
        else:
            parts.append("\\" + text if text in _REGEX_SPECIAL else text)
    return "".join(parts)


def spark_datetime_pattern(pattern: str) -> str:
    """A strftime pattern (``%d/%m/%Y``) as a Spark datetime pattern (``d/M/yyyy``)."""
    out = []
    literal = ""
    for is_field, text, adjacent in _pattern_tokens(pattern):
        if not is_field:
            literal += text
            continue
        out.append(_spark_literal_text(literal))
        literal = ""
        letters = _SPARK_FIELDS[text]
        if adjacent and len(letters) == 1:
            letters = letters * (3 if letters == "D" else 2)
        out.append(letters)
    out.append(_spark_literal_text(literal))
    return "".join(out)


def _spark_literal_text(text: str) -> str:
    # Letters are pattern fields in Spark: literal text holding any is quoted.
    if any(c.isalpha() or c == "'" for c in text):
        return "'" + text.replace("'", "''") + "'"
    return text


def java_charset(encoding: str) -> str:
    """Python's name of a text encoding (``latin-1``, ``cp1252``) as Java knows it."""
    name = codecs.lookup(encoding).name
    return {"iso8859-1": "ISO-8859-1", "utf-8": "UTF-8"}.get(name, name)


class SparkDialect(Dialect):
    name = "spark"

    def quote(self, identifier: str) -> str:
        return "`" + identifier.replace("`", "``") + "`"

    def literal(self, value: str) -> str:
        # Spark reads backslash escapes inside string literals.
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

    def path(self, path: Path) -> str:
        return self.literal(str(path))

    def read_parquet(self, paths: Sequence[Path], *, row_numbers: bool = False) -> str:
        # ``_metadata.row_index`` is the 0-based row within each file, as DuckDB's
        # ``file_row_number``.
        extra = ", _metadata.row_index AS file_row_number" if row_numbers else ""
        parts = [f"SELECT *{extra} FROM parquet.{self.quote(str(p))}" for p in paths]  # noqa: S608
        return "(" + " UNION ALL ".join(parts) + ")"

    def read_csv(
        self,
        path: Path,
        *,
        delimiter: str,
        columns: Sequence[str],
        encoding: str,
        max_line_bytes: int,
    ) -> str:
        raise NotImplementedError("Spark reads CSV through a view: see SparkDialect.csv_view")

    def csv_view(
        self,
        name: str,
        path: Path,
        *,
        delimiter: str,
        columns: Sequence[str],
        encoding: str,
        max_line_bytes: int,
    ) -> str:
        """A statement making ``path`` a view with DuckDB's ``read_csv`` semantics.

        Every value is text, the header line is skipped (names come from
        ``columns``), quotes and escapes are ``"``, and a ragged or badly quoted
        line fails the query instead of being repaired.
        """
        schema = ", ".join(f"{self.quote(c)} STRING" for c in columns)
        options = {
            "path": str(path),
            "header": "true",
            "sep": delimiter,
            "encoding": java_charset(encoding),
            "quote": '"',
            "escape": '"',
            "multiLine": "true",
            "mode": "FAILFAST",
            "inferSchema": "false",
            "enforceSchema": "true",
            "unescapedQuoteHandling": "RAISE_ERROR",
            # Spark bounds a value, not a line; a value is never longer than its line.
            "maxCharsPerColumn": str(int(max_line_bytes)),
        }
        listed = ", ".join(f"{self.quote(k)} {self.literal(v)}" for k, v in options.items())
        declared = f" ({schema})" if schema else ""
        return f"CREATE TEMPORARY VIEW {self.quote(name)}{declared} USING csv OPTIONS ({listed})"

    def row_number_column(self) -> str:
        return "file_row_number"

    def try_cast(self, expression: str, column: Column) -> str:
        storage = column.storage
        if storage in {"integer", "year"}:
            # As the shared rule, but round() keeps a DOUBLE where Spark's floor() would
            # overflow a BIGINT on huge values.
            number = f"TRY_CAST(replace({expression}, ',', '.') AS DOUBLE)"
            ascii_integer = self.literal(_ASCII_INTEGER)
            return (
                f"COALESCE(CASE WHEN {expression} RLIKE {ascii_integer} "
                f"THEN TRY_CAST({expression} AS {column.sql_type}) END, "
                f"CASE WHEN {number} = round({number}) AND abs({number}) < 9007199254740992 "
                f"THEN TRY_CAST({number} AS {column.sql_type}) END)"
            )
        if storage == "yearmonth":
            pattern = self.literal("^[0-9]{4}-?[0-9]{2}\\z")
            return f"CASE WHEN {expression} RLIKE {pattern} THEN replace({expression}, '-', '') END"
        return super().try_cast(expression, column)

    def full_match(self, expression: str, regex: str) -> str:
        # Java's "$" would also match before a final newline; "\\z" is the very end.
        anchored = "^(?:" + regex + ")\\z"
        return f"({expression} RLIKE {self.literal(anchored)})"

    def try_strptime(self, expression: str, patterns: Sequence[str]) -> str:
        parsed = [
            f"try_to_timestamp({expression}, {self.literal(spark_datetime_pattern(p))})"
            for p in patterns
        ]
        return parsed[0] if len(parsed) == 1 else f"COALESCE({', '.join(parsed)})"

    def as_text(self, expression: str) -> str:
        return f"CAST({expression} AS STRING)"

    def hex_to_bigint(self, expression: str) -> str:
        return f"CAST(conv({expression}, 16, 10) AS BIGINT)"

    def add_days(self, expression: str, days: str, *, timestamp: bool = False) -> str:
        if timestamp:
            return f"CAST(timestampadd(DAY, CAST({days} AS INT), {expression}) AS TIMESTAMP)"
        return f"date_add(CAST({expression} AS DATE), CAST({days} AS INT))"

    def truncate_date(self, expression: str, unit: str, *, timestamp: bool = False) -> str:
        if unit not in {"month", "year"}:
            raise ValueError("dates are truncated to a month or a year")
        kind = "TIMESTAMP" if timestamp else "DATE"
        return f"CAST(date_trunc('{unit}', {expression}) AS {kind})"

    def hmac_sha256_hex(self, key: bytes, expression: str) -> str:
        # RFC 2104 from sha2 over binary values: every Spark 4 release has it, and it
        # is byte-for-byte the DuckDB construction.
        inner, outer = hmac_pads(key)
        return (
            f"sha2(concat(X'{outer}', unhex(sha2(concat(X'{inner}', "
            f"encode(CAST({expression} AS STRING), 'UTF-8')), 256))), 256)"
        )
