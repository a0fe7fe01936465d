# SQL here is built from catalogued names, each quoted by the dialect, and from
# literals escaped by it; no user value is ever spliced in.
# ruff: noqa: S608
"""Checking deposited files against the catalog, in the engine.

Each file becomes a view with its record number; every value is read as text
and parsed into the catalogued type, so a bad value is reported rather than
guessed. Column rules are counted in one pass; keys need one pass each. The
same typed view is what the accepted version is written from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from hdh.engines import Engine
from hdh.engines.readstat import UnreadableFile
from hdh.engines.types import NUMERIC
from hdh.lake.report import Report
from hdh.lake.sources import Deposited
from hdh.synth.schema import FieldShape, TableShape

CALENDAR = frozenset({"date", "datetime", "yearmonth", "year", "time"})
_FLOATING = frozenset({"DOUBLE", "FLOAT", "REAL"})
_LINE = re.compile(r"CSV Error on Line: (\d+)")


@dataclass
class Checked:
    """The deposit as a typed relation, once every file could be read."""

    relation: str
    columns: list[str]


def check(
    engine: Engine,
    *,
    shape: TableShape,
    deposited: Sequence[Deposited],
    codes: Mapping[str, Sequence[str]],
    parents: Mapping[str, Sequence[Path]],
    report: Report,
) -> Checked | None:
    """Validate; return the typed relation if every file could be read (even with findings)."""
    views = []
    for number, item in enumerate(deposited):
        view = _stage(engine, number, item, shape, report)
        if view is not None:
            views.append(view)
    if len(views) != len(deposited):
        return None
    q = engine.quote
    union = " UNION ALL ".join(f"SELECT * FROM {v}" for v in views)
    engine.execute(f"CREATE OR REPLACE TEMP VIEW deposit_raw AS {union}")
    # A column already stored with the catalogued type (Parquet, Stata) is taken
    # as it is; text (CSV) is parsed, and what does not parse is a finding.
    stored = dict(engine.columns("SELECT * FROM deposit_raw"))
    native = {f.name for f in shape.fields if stored.get(f.name) == f.column.sql_type}
    # SAS stores every number as a double: 1.0 in a boolean, integer or code column
    # is the 1 its producer wrote.
    whole = {
        f.name
        for f in shape.fields
        if str(stored.get(f.name, "")).upper() in _FLOATING and f.column.storage != "number"
    }

    def text(field: FieldShape) -> str:
        return _text(engine, field, whole=field.name in whole)

    def parsed(field: FieldShape) -> str:
        if field.name in native:
            return q(field.name)
        return engine.dialect.try_cast(text(field), field.column)

    typed = ", ".join(f"{parsed(f)} AS {q(f.name)}" for f in shape.fields)
    engine.execute(
        f"CREATE OR REPLACE TEMP VIEW deposit_typed AS SELECT __file, __row, {typed} "
        "FROM deposit_raw"
    )
    # Raw text and parsed value of every column side by side, for the rules (one scan).
    both = ", ".join(f"{text(f)} AS r{i}, {parsed(f)} AS t{i}" for i, f in enumerate(shape.fields))
    engine.execute(
        f"CREATE OR REPLACE TEMP VIEW deposit_both AS SELECT __file, __row, {both} FROM deposit_raw"
    )
    filled = engine.fetch(
        "SELECT count(*), "
        + ", ".join(f"count({text(f)})" for f in shape.fields)
        + " FROM deposit_raw"
    )[0]
    report.rows = int(filled[0])
    empty = {f.name for f, n in zip(shape.fields, filled[1:], strict=True) if not n}
    names = [item.name for item in deposited]
    _column_rules(engine, shape, codes, names, report, empty=empty, native=native)
    _primary_key(engine, shape, names, report)
    _foreign_keys(engine, shape, parents, names, report)
    return Checked("deposit_typed", shape.names)


def _text(engine: Engine, field: FieldShape, *, whole: bool = False) -> str:
    value = engine.quote(field.name)
    as_text = engine.dialect.as_text
    if whole:
        integral = f"CAST({value} AS BIGINT)"
        return (
            f"CASE WHEN {value} = floor({value}) AND abs({value}) < 1e18 "
            f"THEN {as_text(integral)} ELSE NULLIF(trim({as_text(value)}), '') END"
        )
    return f"NULLIF(trim({as_text(value)}), '')"


def _stage(
    engine: Engine, number: int, item: Deposited, shape: TableShape, report: Report
) -> str | None:
    """A view ``file_<n>(__file, __row, <catalogued columns>)`` over one file."""
    try:
        relation = engine.relation(item.source)
        if item.source.format == "csv":
            # Parse the whole CSV once, so a malformed line anywhere is found now.
            staged = engine.workdir / f"staged-{number}.parquet"
            engine.write_parquet(f"SELECT * FROM {relation}", staged)
            relation = engine.dialect.read_parquet([staged], row_numbers=True)
        present = [name for name, _ in engine.columns(f"SELECT * FROM {relation}")]
    except UnreadableFile:
        report.add("file.unreadable", file=item.name)
        return None
    except Exception as exc:  # the engine's own error types differ by engine
        _engine_error(str(exc), item, report)
        return None
    present = [c for c in present if c != engine.dialect.row_number_column()]
    by_upper = {c.upper(): c for c in present}
    known = [f for f in shape.fields if f.name.upper() in by_upper]
    if len(known) * 2 < len(shape.fields):
        report.add(
            "table.mismatch",
            file=item.name,
            detail=f"{len(known)} colonnes sur {len(shape.fields)} reconnues",
        )
        return None
    for field in shape.fields:
        if field.name.upper() not in by_upper:
            report.add("column.missing", file=item.name, column=field.name)
    expected = {f.name.upper() for f in shape.fields}
    for column in present:
        if column.upper() not in expected:
            report.add("column.unknown", file=item.name, column=column[:128])
    q = engine.quote
    selected = ", ".join(
        f"{q(by_upper[f.name.upper()])} AS {q(f.name)}"
        if f.name.upper() in by_upper
        else f"CAST(NULL AS VARCHAR) AS {q(f.name)}"
        for f in shape.fields
    )
    view = f"file_{number}"
    row = engine.dialect.row_number_column()
    engine.execute(
        f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT {number} AS __file, "
        f"{q(row)} + 1 AS __row, {selected} FROM {relation}"
    )
    return view


def _engine_error(message: str, item: Deposited, report: Report) -> None:
    # Engine messages quote the offending line: keep only the line number.
    line = _LINE.search(message)
    row = int(line.group(1)) - 1 if line else None
    lowered = message.lower()
    if "maximum line size" in lowered or "line size" in lowered:
        report.add("csv.line_too_long", file=item.name, row=row)
    elif "unicode" in lowered or "encod" in lowered:
        report.add("file.encoding", file=item.name, row=row)
    elif item.source.format == "csv":
        detail = "guillemet non fermé" if "quote" in lowered else ""
        if "expected number of columns" in lowered:
            detail = "nombre de colonnes"
        report.add("csv.malformed", file=item.name, row=row, detail=detail)
    else:
        report.add("file.unreadable", file=item.name)


def _conditions(
    engine: Engine, field: FieldShape, index: int, lists: Mapping[str, str], key: bool
) -> dict[str, str]:
    """Rule -> SQL condition true on a violating row of ``deposit_both``, for one column."""
    text, typed = f"r{index}", f"t{index}"
    storage = field.column.storage
    rules: dict[str, str] = {}
    rules["type"] = f"{text} IS NOT NULL AND {typed} IS NULL"
    if storage in {"integer", "year"}:
        # Some engines round "12.5" to 13 when casting text to an integer: a
        # fraction is a wrong type, whatever the cast made of it. (Below 2**53,
        # where a double still holds every integer exactly.)
        number = f"TRY_CAST(replace({text}, ',', '.') AS DOUBLE)"
        rules["type"] = (
            f"{text} IS NOT NULL AND ({typed} IS NULL OR "
            f"(abs({typed}) < {2**53} AND {number} <> {typed}))"
        )
    if key or field.required:
        rules["required"] = f"{text} IS NULL"
    limit = field.max_length
    if limit and storage == "string":
        rules["length"] = f"{engine.dialect.text_length(text)} > {limit}"
    elif limit and storage == "integer" and limit < 19:
        rules["length"] = f"abs({typed}) >= {10**limit}"
    constraints = field.constraints
    if storage in NUMERIC:
        if isinstance(constraints.get("minimum"), int | float):
            rules["minimum"] = f"{typed} < {float(constraints['minimum'])!r}"
        if isinstance(constraints.get("maximum"), int | float):
            rules["maximum"] = f"{typed} > {float(constraints['maximum'])!r}"
    if isinstance(constraints.get("minLength"), int) and storage == "string":
        rules["min_length"] = f"{engine.dialect.text_length(text)} < {constraints['minLength']}"
    allowed = constraints.get("enum")
    if isinstance(allowed, list) and allowed:
        listed = ", ".join(engine.dialect.literal(str(v)) for v in allowed)
        rules["enum"] = f"{text} IS NOT NULL AND {text} NOT IN ({listed})"
    # Calendar lists (IR_DTE_V) are not enumerations worth checking.
    if field.code_list in lists and field.type not in CALENDAR:
        rules["code_list"] = (
            f"{typed} IS NOT NULL AND {engine.dialect.as_text(typed)} NOT IN "
            f"(SELECT code FROM {lists[field.code_list]})"
        )
    return rules


def _column_rules(
    engine: Engine,
    shape: TableShape,
    codes: Mapping[str, Sequence[str]],
    names: Sequence[str],
    report: Report,
    *,
    empty: set[str],
    native: set[str],
) -> None:
    import pyarrow as pa

    lists: dict[str, str] = {}
    for number, name in enumerate(sorted({f.code_list for f in shape.fields} & set(codes))):
        lists[name] = f"lake_codes_{number}"
        engine.register_arrow(
            lists[name], pa.table({"code": pa.array([str(c) for c in codes[name]], pa.string())})
        )
    checks: list[tuple[str, str, str]] = []
    code_checks: list[tuple[str, str, str]] = []
    for index, field in enumerate(shape.fields):
        key = field.name in shape.primary_key
        for rule, condition in _conditions(engine, field, index, lists, key).items():
            # An empty column can only miss required values; a stored type is right.
            if field.name in empty and rule != "required":
                continue
            if field.name in native and rule == "type":
                continue
            (code_checks if rule == "code_list" else checks).append((rule, field.name, condition))
    counts = list(
        engine.fetch(
            "SELECT "
            + ", ".join(["count(*)"] + [f"count(*) FILTER (WHERE {c})" for _, _, c in checks])
            + " FROM deposit_both"
        )[0][1:]
    )
    # Code lists: one anti-join per column, on its distinct values only.
    counts += [_code_violations(engine, shape, column, lists) for _, column, _ in code_checks]
    for (rule, column, condition), count in zip(checks + code_checks, counts, strict=True):
        if not count:
            continue
        examples = engine.fetch(
            f"SELECT __file, __row FROM deposit_both WHERE {condition} "
            "ORDER BY __file, __row LIMIT 5"
        )
        finding = report.finding(rule, column)
        finding.count += int(count)
        for file, row in examples:
            report.add(rule, file=names[file], row=int(row), column=column, count=0)


def _code_violations(
    engine: Engine, shape: TableShape, column: str, lists: Mapping[str, str]
) -> int:
    ref = engine.quote(column)
    table = lists[shape.field(column).code_list]
    value = engine.dialect.as_text(ref)
    return int(
        engine.scalar(
            f"SELECT coalesce(sum(n), 0) FROM (SELECT {value} AS v, count(*) AS n "
            f"FROM deposit_typed WHERE {ref} IS NOT NULL GROUP BY v) "
            f"WHERE v NOT IN (SELECT code FROM {table})"
        )
    )


def _primary_key(engine: Engine, shape: TableShape, names: Sequence[str], report: Report) -> None:
    if not shape.primary_key:
        return
    key = ", ".join(engine.quote(c) for c in shape.primary_key)
    duplicated = (
        f"SELECT __file, __row FROM (SELECT __file, __row, count(*) OVER (PARTITION BY {key}) "
        f"AS n FROM deposit_typed) WHERE n > 1"
    )
    count = engine.count(f"({duplicated})")
    if not count:
        return
    report.finding("primary_key", ", ".join(shape.primary_key)).count += count
    for file, row in engine.fetch(f"{duplicated} ORDER BY __file, __row LIMIT 5"):
        report.add(
            "primary_key",
            file=names[file],
            row=int(row),
            column=", ".join(shape.primary_key),
            count=0,
        )


def _foreign_keys(
    engine: Engine,
    shape: TableShape,
    parents: Mapping[str, Sequence[Path]],
    names: Sequence[str],
    report: Report,
) -> None:
    q = engine.quote
    for fk in shape.foreign_keys:
        files = parents.get(fk.target)
        if not files or fk.target == shape.name or len(fk.fields) != len(fk.target_fields):
            continue
        present = {
            n for n, _ in engine.columns(f"SELECT * FROM {engine.dialect.read_parquet(files)}")
        }
        if not set(fk.target_fields) <= present:
            continue
        on = " AND ".join(
            f"{engine.dialect.as_text('d.' + q(a))} = {engine.dialect.as_text('p.' + q(b))}"
            for a, b in zip(fk.fields, fk.target_fields, strict=True)
        )
        filled = " AND ".join(f"d.{q(a)} IS NOT NULL" for a in fk.fields)
        orphans = (
            f"SELECT d.__file, d.__row FROM deposit_typed d WHERE {filled} AND NOT EXISTS "
            f"(SELECT 1 FROM {engine.dialect.read_parquet(files)} p WHERE {on})"
        )
        count = engine.count(f"({orphans})")
        if not count:
            continue
        column = ", ".join(fk.fields)
        report.finding("foreign_key", column).count += count
        for file, row in engine.fetch(f"{orphans} ORDER BY d.__file, d.__row LIMIT 5"):
            report.add(
                "foreign_key",
                file=names[file],
                row=int(row),
                column=column,
                detail=fk.target,
                count=0,
            )
