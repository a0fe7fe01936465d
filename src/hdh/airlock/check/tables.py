"""Tables computed from row-level data together with their disclosure checks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from . import content, secondary
from .evidence import AGGREGATES, GroupStats, TableError, codes, group_stats, to_frame
from .policy import Policy
from .report import Finding, OutputReport, Verdict

# Means count: the counts of a table of means are usually published beside it.
ADDITIVE = ("count", "sum", "mean")
FIELDS = ("rows", "contributors", "total", "negatives", "missing", "non_finite", "value")


def _names(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(name) for name in value]


def _grid(
    parts: dict[str, GroupStats], shape: tuple[int, int], margins: bool
) -> dict[str, np.ndarray]:
    """Interior cells (and margins) laid out as the displayed table."""
    rows, columns = shape
    grid: dict[str, np.ndarray] = {}
    for field in (*FIELDS, "top"):
        inner = getattr(parts["cells"], field)
        tail = inner.shape[1:]
        block = inner.reshape((rows, columns, *tail))
        if margins:
            full = np.zeros((rows + 1, columns + 1, *tail), dtype=block.dtype)
            full[:rows, :columns] = block
            full[:rows, columns] = getattr(parts["rows"], field)
            full[rows, :columns] = getattr(parts["columns"], field)
            full[rows, columns] = getattr(parts["all"], field)[0]
            block = full
        grid[field] = block
    return grid


def _with_margin(labels: pd.Index, name: str) -> pd.Index:
    if isinstance(labels, pd.MultiIndex):
        blank = ("",) * (labels.nlevels - 1)
        return labels.append(pd.MultiIndex.from_tuples([(name, *blank)], names=labels.names))
    return labels.append(pd.Index([name], name=labels.name))


def cell_masks(
    grid: dict[str, np.ndarray], *, magnitude: bool, policy: Policy
) -> dict[str, np.ndarray]:
    """Primary checks, cell by cell, on the evidence grid."""
    contributors = grid["contributors"]
    masks: dict[str, np.ndarray] = {"threshold": contributors < policy.min_count}
    if not magnitude and policy.zeros_disclosive:
        masks["zero"] = grid["rows"] == 0
    if magnitude:
        total = grid["total"]
        top = grid["top"]
        negative = grid["negatives"] > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            share = top[..., : policy.nk_n].sum(axis=-1) / total
            x1 = top[..., 0]
            remainder = (total - x1 - top[..., 1]) / x1
        # Concentration rules assume non-negative contributions (HandbookSDC §4.2):
        # a cell with a negative one goes to review instead.
        masks["nk-rule"] = ~negative & (total > 0) & (share >= policy.nk_k)
        all_zero = (x1 == 0) & (contributors > 0)
        masks["p-ratio"] = ~negative & (
            ((x1 > 0) & (remainder < policy.p_percent)) | (all_zero & policy.zeros_disclosive)
        )
        masks["negative"] = negative
        if policy.missing_review:
            masks["missing"] = grid["missing"] > 0
        masks["non-finite"] = grid["non_finite"] > 0
    return masks


def judge(
    report: OutputReport,
    *,
    margins: bool,
    cost: np.ndarray,
) -> OutputReport:
    """Add secondary suppression to a report whose primary masks are set."""
    policy = report.policy
    primary = report.flagged(Verdict.FAIL)
    if policy.secondary_suppression and primary.any():
        added, leftover = secondary.protect(
            primary, cost, margins=margins, assume_margins_known=policy.assume_margins_known
        )
        report.masks["secondary"] = added
        if leftover:
            report.findings.append(
                Finding(
                    "secondary",
                    Verdict.FAIL,
                    f"{len(leftover)} cellule(s) masquée(s) restent calculables par différence",
                )
            )
    return report


def crosstab(
    data: Any,
    index: str | Sequence[str],
    columns: str | Sequence[str] | None = None,
    values: str | None = None,
    aggfunc: str | None = None,
    *,
    margins: bool = False,
    margins_name: str = "All",
    unit: str | None = None,
    policy: Policy | None = None,
    uid: str = "output_0",
    command: str = "",
) -> OutputReport:
    """Cross-tabulate ``data`` and check every cell.

    Like ``pandas.crosstab`` (and ACRO's), but ``data`` is a frame and the
    dimensions are column names. ``aggfunc`` is one of count, sum, mean,
    median, min, max, std, var; without ``values`` the table counts rows.
    ``unit`` names the column of the statistical unit (a person): contributors
    are then distinct units and dominance is computed on each unit's total.
    """
    policy = policy or Policy()
    row_keys, column_keys = _names(index), _names(columns)
    if not row_keys:
        raise TableError("index is required")
    if values is not None and aggfunc is None:
        raise TableError("values need an aggfunc")
    if aggfunc is None:
        aggfunc = "count"
    if aggfunc not in AGGREGATES:
        raise TableError(f"unsupported aggfunc {aggfunc!r}: use one of {', '.join(AGGREGATES)}")
    if set(row_keys) & set(column_keys):
        raise TableError("a column cannot be both index and columns")
    magnitude = values is not None and aggfunc != "count"
    needed = [*row_keys, *column_keys, *([values] if values else []), *([unit] if unit else [])]
    frame = to_frame(data, needed)
    report = OutputReport(
        uid=uid,
        output_type="table",
        method="crosstab",
        policy=policy,
        command=command,
        properties={
            "aggfunc": aggfunc,
            "margins": margins,
            "hdh_dimensions": row_keys + column_keys,
        },
    )
    report.findings.extend(content.identifier_dimensions(row_keys + column_keys, policy))

    known = frame[row_keys + column_keys].notna().all(axis=1)
    if not known.all():
        frame = frame[known]
    numbers: np.ndarray | None = None
    if values is not None:
        raw = frame[values]
        converted = pd.to_numeric(raw, errors="coerce")
        if (converted.isna() & raw.notna()).any():
            raise TableError(f"column {values} has non-numeric values")
        numbers = converted.to_numpy(dtype=float)
    units: np.ndarray | None = None
    if unit is not None:
        if frame[unit].isna().any():
            raise TableError(f"column {unit} has missing units")
        units = pd.factorize(frame[unit])[0].astype(np.int64)

    row_codes, row_labels = codes(frame, row_keys)
    col_codes, col_labels = codes(frame, column_keys)
    if not column_keys:
        col_labels = pd.Index([aggfunc if values else "count"])
    shape = (len(row_labels), len(col_labels))
    if len(frame) == 0:
        report.table = pd.DataFrame(index=row_labels, columns=col_labels, dtype=float)
        report.findings.append(Finding("empty", Verdict.REVIEW, "tableau vide"))
        return report

    top_k = max(policy.nk_n, 2)

    def stats(groups: np.ndarray, size: int) -> GroupStats:
        return group_stats(groups, size, numbers, top_k=top_k, aggfunc=aggfunc, units=units)

    parts = {"cells": stats(row_codes * shape[1] + col_codes, shape[0] * shape[1])}
    if margins:
        parts["rows"] = stats(row_codes, shape[0])
        parts["columns"] = stats(col_codes, shape[1])
        parts["all"] = stats(np.zeros(len(row_codes), dtype=np.int64), 1)
        row_labels = _with_margin(row_labels, margins_name)
        col_labels = _with_margin(col_labels, margins_name)
    grid = _grid(parts, shape, margins)
    value = grid["value"]
    if magnitude or values is not None:
        table = pd.DataFrame(value, index=row_labels, columns=col_labels)
    else:
        table = pd.DataFrame(grid["rows"], index=row_labels, columns=col_labels)
    report.table = table
    report.evidence = {
        "rows": grid["rows"],
        "contributors": grid["contributors"],
        "total": grid["total"],
        "top": grid["top"],
    }
    report.masks = cell_masks(grid, magnitude=magnitude, policy=policy)
    report.findings.extend(
        content.microdata_from_counts(grid["rows"], margins=margins, policy=policy)
    )
    report.findings.extend(content.identifier_labels(table, policy))
    if aggfunc not in ADDITIVE:
        # Medians, extremes and spreads do not add up along a line: margins do
        # not give them away by difference.
        return report
    cost = np.where(np.isfinite(value), np.abs(value), 0.0) if magnitude else grid["rows"]
    return judge(report, margins=margins, cost=cost)


def pivot_table(
    data: Any,
    values: str,
    index: str | Sequence[str],
    columns: str | Sequence[str] | None = None,
    aggfunc: str = "mean",
    *,
    margins: bool = False,
    margins_name: str = "All",
    unit: str | None = None,
    policy: Policy | None = None,
    uid: str = "output_0",
    command: str = "",
) -> OutputReport:
    """``pandas.pivot_table`` of one values column, checked like ``crosstab``."""
    report = crosstab(
        data,
        index,
        columns,
        values=values,
        aggfunc=aggfunc,
        margins=margins,
        margins_name=margins_name,
        unit=unit,
        policy=policy,
        uid=uid,
        command=command,
    )
    report.method = "pivot_table"
    return report


def check_rounding(
    table: pd.DataFrame,
    *,
    base: int,
    margins: bool = False,
    policy: Policy | None = None,
    uid: str = "output_0",
) -> OutputReport:
    """A table declared rounded to ``base``: every cell a multiple of it and,
    with ``margins`` (last row and column), totals consistent with the cells
    within what independent rounding explains."""
    policy = policy or Policy()
    values = table.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    report = OutputReport(
        uid=uid,
        output_type="table",
        method="rounding",
        policy=policy,
        table=table,
        properties={"round_base": base, "margins": margins},
    )
    not_multiple, findings = content.rounding_masks(values, base=base, margins=margins)
    report.masks["not-rounded"] = not_multiple
    report.findings.extend(findings)
    return report
