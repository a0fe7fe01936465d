# SQL here is built from column names quoted by the engine's dialect and from
# relations the caller built; no data value is spliced in.
# ruff: noqa: S608
"""Deterministic linkage across SNDS tables on pseudonymised person keys.

In the SNDS, care lines, hospital stays and deaths carry the same keyed person
identifier (``BEN_NIR_PSA`` + ``BEN_RNG_GEM`` in the DCIR, ``NIR_ANO_17`` in
the PMSI), so sources are linked by equality on it. :func:`join_sql` gives the
SQL an extraction plan embeds; :func:`coverage` measures how well two tables
link (persons and rows on each side that find a partner), which the
preparation manifest records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from hdh.engines.base import Engine

HOWS = {"inner": "INNER", "left": "LEFT", "full": "FULL OUTER"}


@dataclass(frozen=True)
class Coverage:
    """How two relations link on their person keys (counts only, no identifier)."""

    left_rows: int
    right_rows: int
    left_persons: int
    right_persons: int
    linked_persons: int
    left_linked_rows: int
    right_linked_rows: int

    @property
    def left_person_share(self) -> float:
        return self.linked_persons / self.left_persons if self.left_persons else 1.0

    @property
    def right_person_share(self) -> float:
        return self.linked_persons / self.right_persons if self.right_persons else 1.0

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "left_person_share": round(self.left_person_share, 6),
            "right_person_share": round(self.right_person_share, 6),
        }


def _keys(
    left_on: str | Sequence[str], right_on: str | Sequence[str] | None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    left = (left_on,) if isinstance(left_on, str) else tuple(left_on)
    right = (
        left
        if right_on is None
        else ((right_on,) if isinstance(right_on, str) else tuple(right_on))
    )
    if not left or len(left) != len(right):
        raise ValueError("both sides need the same, non-zero number of key columns")
    return left, right


def join_sql(
    engine: Engine,
    left: str,
    right: str,
    *,
    on: str | Sequence[str],
    right_on: str | Sequence[str] | None = None,
    how: str = "inner",
    left_columns: Sequence[str] | None = None,
    right_columns: Sequence[str] | None = None,
) -> str:
    """A SELECT joining ``left`` and ``right`` on equal person keys.

    Keys are compared as text, so a key stored as a number on one side and as
    text on the other still links. A null key never links. Columns default to
    every column of each side (``l.*``, ``r.*``); name them to avoid clashes.
    """
    if how not in HOWS:
        raise ValueError(f"unknown join {how!r}; one of {', '.join(HOWS)}")
    left_keys, right_keys = _keys(on, right_on)
    q, text = engine.quote, engine.dialect.as_text
    condition = " AND ".join(
        f"{text('l.' + q(a))} = {text('r.' + q(b))}"
        for a, b in zip(left_keys, right_keys, strict=True)
    )
    selected = [f"l.{q(c)}" for c in left_columns] if left_columns is not None else ["l.*"]
    selected += [f"r.{q(c)}" for c in right_columns] if right_columns is not None else ["r.*"]
    return f"SELECT {', '.join(selected)} FROM {left} l {HOWS[how]} JOIN {right} r ON {condition}"


def coverage(
    engine: Engine,
    left: str,
    right: str,
    *,
    on: str | Sequence[str],
    right_on: str | Sequence[str] | None = None,
) -> Coverage:
    """Rows and distinct persons of each side, and how many of them link."""
    left_keys, right_keys = _keys(on, right_on)
    q, text = engine.quote, engine.dialect.as_text

    def key(columns: tuple[str, ...]) -> str:
        # NULL when any part is missing: a null key never links.
        parts = [text(q(c)) for c in columns]
        joined = parts[0] if len(parts) == 1 else "concat_ws('|', " + ", ".join(parts) + ")"
        missing = " OR ".join(f"{q(c)} IS NULL" for c in columns)
        return f"CASE WHEN {missing} THEN NULL ELSE {joined} END"

    # One pass over each side and one join, so a distributed engine runs one job.
    sql = (
        f"WITH a AS (SELECT {key(left_keys)} AS k, count(*) AS n FROM {left} GROUP BY 1), "
        f"b AS (SELECT {key(right_keys)} AS k, count(*) AS n FROM {right} GROUP BY 1) "
        "SELECT coalesce(sum(a.n), 0), coalesce(sum(b.n), 0), count(a.k), count(b.k), "
        "count(CASE WHEN a.k IS NOT NULL AND b.k IS NOT NULL THEN 1 END), "
        "coalesce(sum(CASE WHEN b.k IS NOT NULL THEN a.n END), 0), "
        "coalesce(sum(CASE WHEN a.k IS NOT NULL THEN b.n END), 0) "
        "FROM a FULL OUTER JOIN b ON a.k = b.k"
    )
    row = [int(value) for value in engine.fetch(sql)[0]]
    return Coverage(
        left_rows=row[0],
        right_rows=row[1],
        left_persons=row[2],
        right_persons=row[3],
        linked_persons=row[4],
        left_linked_rows=row[5],
        right_linked_rows=row[6],
    )
