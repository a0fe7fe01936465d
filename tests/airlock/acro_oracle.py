"""Run the pinned ACRO (the research oracle) on a frame and return its masks."""

from __future__ import annotations

import logging
import os
import tempfile
from typing import Any

import pandas as pd

ACRO_VERSION = "1.0.2"  # pinned in pyproject's test extra; ADR 0011 explains why

# Our rule names -> ACRO 1.0 check names, for the rules both implement.
SHARED_RULES = {
    "threshold": "MinimumThresholdCheck",
    "zero": "PresenceOfZeroCheck",
    "nk-rule": "NKCheck",
    "p-ratio": "PPercentCheck",
}


def new_session() -> Any:
    from importlib.metadata import version

    import acro

    assert version("acro") == ACRO_VERSION
    previous = os.getcwd()
    # ACRO writes nothing until finalise, but keep any stray file out of the tree.
    os.chdir(tempfile.mkdtemp(prefix="acro-"))
    try:
        session = acro.ACRO(suppress=False)
    finally:
        os.chdir(previous)
    logging.getLogger("acro").setLevel(logging.ERROR)
    return session


def acro_masks(
    session: Any,
    frame: pd.DataFrame,
    index: str,
    columns: str,
    values: str | None = None,
    aggfunc: str | None = None,
    margins: bool = False,
) -> tuple[pd.DataFrame, dict[str, set[tuple[int, int]]]]:
    """ACRO's table and, per shared check, the set of flagged (row, column) cells."""
    table = session.crosstab(
        frame[index],
        frame[columns],
        values=frame[values] if values else None,
        aggfunc=aggfunc,
        margins=margins,
    )
    uid = f"output_{session.results.output_id - 1}"
    cells = session.results.results[uid].sdc["cells"]
    masks = {
        name: {(int(r), int(c)) for r, c in cells.get(name, [])} for name in SHARED_RULES.values()
    }
    return table, masks


def our_masks(report: Any) -> dict[str, set[tuple[int, int]]]:
    out: dict[str, set[tuple[int, int]]] = {name: set() for name in SHARED_RULES.values()}
    for rule, name in SHARED_RULES.items():
        if rule in report.masks:
            rows, cols = report.masks[rule].nonzero()
            out[name] = {(int(r), int(c)) for r, c in zip(rows, cols, strict=True)}
    return out
