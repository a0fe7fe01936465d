"""Synthetic rows for any catalogued table, from its shape alone.

Respects types, lengths, min/max/enum constraints, code lists, primary-key
uniqueness and foreign keys (values drawn from the parent's rows). Values are
independent across columns: the aim is code that runs, not realistic
statistics — the SNDS has its own generator (:mod:`hdh.synth.snds`).
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from hdh.engines import files
from hdh.synth.arrow import TableWriters, table_files
from hdh.synth.schema import FieldShape, TableShape

BATCH = 100_000
NULL_SHARE = 0.05
_ALPHABET = np.array(list(string.ascii_uppercase + string.digits))


def parent_first(shapes: Sequence[TableShape]) -> list[TableShape]:
    """Tables ordered so that each comes after the tables its foreign keys point to."""
    by_name = {s.name: s for s in shapes}
    ordered: list[TableShape] = []
    state: dict[str, int] = {}

    def visit(shape: TableShape) -> None:
        if state.get(shape.name) == 2:
            return
        if state.get(shape.name) == 1:
            return  # a cycle: the second table simply sees no parent rows yet
        state[shape.name] = 1
        for key in shape.foreign_keys:
            if key.target in by_name and key.target != shape.name:
                visit(by_name[key.target])
        state[shape.name] = 2
        ordered.append(shape)

    for shape in shapes:
        visit(shape)
    return ordered


def tightened(shapes: Sequence[TableShape]) -> list[TableShape]:
    """Shapes whose referenced columns also satisfy every referencing column's limits.

    Dictionaries disagree with themselves (a parent key of 5 digits referenced
    by a child column of at most 100): values drawn for the parent must fit both.
    """
    limits: dict[tuple[str, str], list[FieldShape]] = {}
    by_name = {s.name: s for s in shapes}
    for shape in shapes:
        for key in shape.foreign_keys:
            if key.target not in by_name:
                continue
            for local, remote in zip(key.fields, key.target_fields, strict=False):
                limits.setdefault((key.target, remote), []).append(shape.field(local))
    result = []
    for shape in shapes:
        fields = []
        for field in shape.fields:
            for child in limits.get((shape.name, field.name), []):
                field = _narrower(field, child)
            fields.append(field)
        result.append(replace(shape, fields=tuple(fields)))
    return result


def _narrower(field: FieldShape, child: FieldShape) -> FieldShape:
    constraints = dict(field.constraints)
    for name, pick in (("minimum", max), ("maximum", min)):
        values = [c[name] for c in (field.constraints, child.constraints) if name in c]
        if values:
            constraints[name] = pick(values)
    lengths = [n for n in (field.max_length, child.max_length) if n]
    length = str(min(lengths)) if lengths else field.length
    return replace(field, constraints=constraints, length=length)


def generate_tables(
    *,
    shapes: Sequence[TableShape],
    rows: int | Mapping[str, int],
    out: Path,
    seed: int = 0,
    codes: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, int]:
    """Write ``out/<TABLE>/part-*.parquet`` for each shape; the folder appears when done."""
    codes = codes or {}
    written: dict[str, int] = {}
    with files.atomic_path(out) as folder:
        for number, shape in enumerate(parent_first(tightened(shapes))):
            count = rows if isinstance(rows, int) else rows.get(shape.name, 0)
            parents = {
                key.target: pa.concat_tables(
                    pq.read_table(path) for path in table_files(folder, key.target)
                )
                for key in shape.foreign_keys
                if key.target in written
            }
            writers = TableWriters(folder, {shape.name: shape})
            try:
                for batch in batches(
                    shape, count, seed=seed + number, codes=codes, parents=parents
                ):
                    writers.write(shape.name, batch, len(next(iter(batch.values()))))
            finally:
                writers.close()
            written[shape.name] = writers.rows[shape.name]
    return written


def batches(
    shape: TableShape,
    rows: int,
    *,
    seed: int = 0,
    codes: Mapping[str, Sequence[str]] | None = None,
    parents: Mapping[str, pa.Table] | None = None,
) -> Iterator[dict[str, pa.Array]]:
    """Column arrays of ``shape``, ``BATCH`` rows at a time, deterministic for ``seed``."""
    codes = codes or {}
    parents = parents or {}
    # A child whose whole primary key is a foreign key (one row per parent row)
    # takes distinct parent rows, so it has at most as many rows as its parent.
    distinct: dict[str, np.ndarray] = {}
    for key in shape.foreign_keys:
        parent = parents.get(key.target)
        if parent is not None and shape.primary_key and set(shape.primary_key) <= set(key.fields):
            distinct[key.target] = np.random.default_rng([seed, 0xFFFF_FFFF]).permutation(
                parent.num_rows
            )
            rows = min(rows, parent.num_rows)
    for number, first in enumerate(range(0, rows, BATCH)):
        n = min(BATCH, rows - first)
        rng = np.random.default_rng([seed, number])
        columns: dict[str, pa.Array] = {}
        for key in shape.foreign_keys:
            parent = parents.get(key.target)
            if parent is None or not parent.num_rows or key.target == shape.name:
                continue
            if key.target in distinct:
                picked = pa.array(distinct[key.target][first : first + n])
            else:
                picked = pa.array(rng.integers(0, parent.num_rows, size=n))
            for name, target in zip(key.fields, key.target_fields, strict=False):
                if name not in columns and target in parent.column_names:
                    values = pc.take(parent.column(target), picked).combine_chunks()
                    columns[name] = values.cast(_type(shape.field(name)))
        unique = _unique_column(shape, columns)
        for field in shape.fields:
            if field.name in columns:
                continue
            if field.name == unique:
                columns[field.name] = _sequence(field, first, n)
                continue
            values = _values(field, rng, n, codes.get(field.code_list))
            if field.name not in shape.primary_key and not field.required:
                values = pc.if_else(pa.array(rng.random(n) < NULL_SHARE), None, values)
            columns[field.name] = values
        yield columns


def _type(field: FieldShape) -> pa.DataType:
    from hdh.synth.schema import arrow_type

    return arrow_type(field.column.storage)


def _unique_column(shape: TableShape, filled: Mapping[str, pa.Array]) -> str | None:
    """The primary-key column made unique by a sequence (one is enough for the key)."""
    for name in shape.primary_key:
        field = shape.field(name)
        if name not in filled and field.column.storage in {"integer", "string"}:
            return name
    return None


def _sequence(field: FieldShape, first: int, n: int) -> pa.Array:
    numbers = np.arange(first + 1, first + n + 1, dtype=np.int64)
    if field.column.storage == "integer":
        low = int(field.constraints.get("minimum", 0) or 0)
        return pa.array(numbers + max(low - 1, 0))
    width = field.max_length or 12
    pad = min(width, int(field.constraints.get("minLength", 0) or 0) or 1)
    return pa.array(np.char.zfill(numbers.astype(f"U{width}"), pad))


def _fitting(field: FieldShape, codes: Sequence[str]) -> list[str]:
    """The codes of a list that fit the column's type and length."""
    limit = field.max_length
    storage = field.column.storage
    fitting = []
    for code in codes:
        if limit and len(code) > limit:
            continue
        if not _holds(storage, code):
            continue
        fitting.append(code)
    return fitting


def _holds(storage: str, code: str) -> bool:
    """Whether a code list value is a value of the column's type (lists mix in blanks
    and placeholders such as "" or "00000000" for date columns)."""
    try:
        if storage in {"integer", "year"}:
            return code.lstrip("-").isdigit()
        if storage == "number":
            float(code)
        elif storage == "date":
            dt.date.fromisoformat(code)
        elif storage == "datetime":
            dt.datetime.fromisoformat(code)
        elif storage == "boolean":
            return code.lower() in {"true", "false", "0", "1"}
    except ValueError:
        return False
    return True


def _values(
    field: FieldShape, rng: np.random.Generator, n: int, listed: Sequence[str] | None
) -> pa.Array:
    storage = field.column.storage
    enum = field.constraints.get("enum")
    choices = [str(v) for v in enum] if enum else _fitting(field, listed or [])
    if choices:
        picked = pa.array(np.array(choices)[rng.integers(0, len(choices), size=n)])
        return picked.cast(_type(field), safe=False) if storage != "string" else picked
    if storage in {"integer", "year"}:
        digits = min(field.max_length or 6, 18)
        low = field.constraints.get("minimum", 1900 if storage == "year" else 0)
        high = field.constraints.get("maximum", 2025 if storage == "year" else 10**digits - 1)
        return pa.array(rng.integers(int(low), int(high) + 1, size=n)).cast(_type(field))
    if storage == "number":
        low = float(field.constraints.get("minimum", 0.0))
        high = float(field.constraints.get("maximum", 1000.0))
        return pa.array(np.round(rng.uniform(low, high, size=n), 2))
    if storage == "boolean":
        return pa.array(rng.random(n) < 0.5)
    if storage in {"date", "datetime"}:
        days = np.datetime64("2015-01-01") + rng.integers(0, 3650, size=n)
        return pa.array(days if storage == "date" else days.astype("datetime64[us]"))
    if storage == "yearmonth":
        years = rng.integers(2015, 2025, size=n).astype("U4")
        months = np.char.zfill(rng.integers(1, 13, size=n).astype("U2"), 2)
        return pa.array(np.char.add(years, months))
    shortest = int(field.constraints.get("minLength", 0) or 0)
    width = max(field.max_length or 10, shortest)
    low = shortest or width
    letters = _ALPHABET[rng.integers(0, len(_ALPHABET), size=(n, width))]
    text = letters.view(f"U{width}").ravel()
    if low < width:
        cut = rng.integers(low, width + 1, size=n)
        text = np.array([t[:c] for t, c in zip(text.tolist(), cut.tolist(), strict=True)])
    return pa.array(text)
