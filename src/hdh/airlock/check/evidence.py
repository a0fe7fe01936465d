"""Disclosure evidence of a table, computed from row-level data in one pass.

Rows are mapped to integer cell codes once; every statistic is then a
``numpy.bincount`` over those codes, and the largest contributions per cell come
from at most n rounds of ``numpy.maximum.at`` (no sort). ACRO instead calls a Python
function per cell and per check through ``pandas.crosstab``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

AGGREGATES = ("count", "sum", "mean", "median", "min", "max", "std", "var")


class TableError(ValueError):
    """The table cannot be computed from this input; the message says why."""


@dataclasses.dataclass
class GroupStats:
    """Statistics of ``groups`` cells, one array entry per cell."""

    rows: np.ndarray  # rows in the cell
    contributors: np.ndarray  # non-missing, finite contributions (units if given)
    total: np.ndarray
    top: np.ndarray  # (cells, k) largest contributions, zero-padded
    negatives: np.ndarray
    missing: np.ndarray
    non_finite: np.ndarray
    value: np.ndarray  # the aggregate shown in the table


def to_frame(data: Any, columns: Sequence[str]) -> pd.DataFrame:
    """The named columns of a pandas/polars frame, a pyarrow table, a DuckDB
    relation or a mapping of arrays, as a pandas frame."""
    wanted = list(dict.fromkeys(columns))
    if isinstance(data, pd.DataFrame):
        frame = data
    elif type(data).__module__.startswith("duckdb"):
        names = list(data.columns)
        _require(names, wanted)
        quoted = ", ".join('"' + name.replace('"', '""') + '"' for name in wanted)
        return data.project(quoted).df()
    elif type(data).__module__.startswith(("polars", "pyarrow")):
        names = list(data.column_names if hasattr(data, "column_names") else data.columns)
        _require(names, wanted)
        return data.select(wanted).to_pandas()
    elif isinstance(data, dict):
        frame = pd.DataFrame(data)
    else:
        raise TableError(f"unsupported data type: {type(data).__name__}")
    names = [str(name) for name in frame.columns]
    _require(names, wanted)
    if all(isinstance(name, str) for name in frame.columns):
        return frame  # read-only use: no copy of millions of rows
    return frame.set_axis(names, axis=1).loc[:, wanted]


def _require(names: list[str], wanted: list[str]) -> None:
    duplicated = sorted({name for name in names if names.count(name) > 1} & set(wanted))
    if duplicated:
        raise TableError(f"duplicated column names: {', '.join(duplicated)}")
    missing = [name for name in wanted if name not in names]
    if missing:
        raise TableError(f"unknown columns: {', '.join(missing)}")


def codes(frame: pd.DataFrame, keys: list[str]) -> tuple[np.ndarray, pd.Index]:
    """Integer code per row and the sorted labels of the observed keys."""
    if not keys:
        return np.zeros(len(frame), dtype=np.int64), pd.Index(["Total"])
    if len(keys) == 1:
        series = frame[keys[0]]
        if series.dtype.kind in "iu" and len(series):
            small = _small_integer_codes(series.to_numpy())
            if small is not None:
                found, labels = small
                return found, pd.Index(labels, name=keys[0])
        try:
            found, labels = pd.factorize(series, sort=True)
        except TypeError:  # mixed, unorderable labels: keep first-seen order
            found, labels = pd.factorize(series, sort=False)
        return found.astype(np.int64), pd.Index(labels, name=keys[0])
    index = pd.MultiIndex.from_frame(frame[keys])
    try:
        found, labels = pd.factorize(index, sort=True)
    except TypeError:
        found, labels = pd.factorize(index, sort=False)
    return np.asarray(found, dtype=np.int64), pd.MultiIndex.from_tuples(list(labels), names=keys)


def _small_integer_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Codes of integer keys over a compact range by counting, not hashing."""
    low, high = int(values.min()), int(values.max())
    if high - low > 4 * len(values) + 1024:
        return None
    shifted = (values - low).astype(np.int64)
    present = np.bincount(shifted, minlength=high - low + 1) > 0
    mapping = np.cumsum(present) - 1
    return mapping[shifted], np.arange(low, high + 1)[present]


def group_stats(
    groups: np.ndarray,
    size: int,
    values: np.ndarray | None,
    *,
    top_k: int,
    aggfunc: str,
    units: np.ndarray | None = None,
) -> GroupStats:
    rows = np.bincount(groups, minlength=size).astype(np.int64)
    if values is None:
        contributors = _distinct(groups, units, size) if units is not None else rows
        zeros = np.zeros(size)
        return GroupStats(
            rows=rows,
            contributors=contributors,
            total=rows.astype(float),
            top=np.zeros((size, top_k)),
            negatives=zeros.astype(np.int64),
            missing=zeros.astype(np.int64),
            non_finite=zeros.astype(np.int64),
            value=rows.astype(float),
        )
    nan = np.isnan(values)
    infinite = np.isinf(values)
    finite = ~(nan | infinite)
    missing = np.bincount(groups[nan], minlength=size)
    non_finite = np.bincount(groups[infinite], minlength=size)
    if finite.all():
        cell, x = groups, values
    else:
        cell, x = groups[finite], values[finite]
    if units is not None:
        # A contributor is a unit (a person, an establishment), not a row.
        frame = pd.DataFrame({"cell": cell, "unit": units[finite], "x": x})
        summed = frame.groupby(["cell", "unit"], sort=False, observed=True)["x"].sum()
        cell = summed.index.get_level_values(0).to_numpy(dtype=np.int64)
        x = summed.to_numpy(dtype=float)
    contributors = np.bincount(cell, minlength=size)
    total = np.bincount(cell, weights=x, minlength=size)
    negatives = np.bincount(cell[x < 0], minlength=size)
    top = largest(cell, x, size, top_k)
    present = contributors > 0
    value = np.full(size, np.nan)
    if aggfunc == "count":
        value = contributors.astype(float)
    elif aggfunc == "sum":
        value[present] = total[present]
    elif aggfunc == "mean":
        value[present] = total[present] / contributors[present]
    elif aggfunc == "max":
        value[present] = top[present, 0]
    elif aggfunc == "min":
        lowest = np.full(size, np.inf)
        np.minimum.at(lowest, cell, x)
        value[present] = lowest[present]
    elif aggfunc == "median":
        order = np.lexsort((x, cell))
        sorted_x = x[order]
        starts = np.concatenate([[0], np.cumsum(contributors)[:-1]])
        low = starts[present] + (contributors[present] - 1) // 2
        high = starts[present] + contributors[present] // 2
        value[present] = (sorted_x[low] + sorted_x[high]) / 2
    elif aggfunc in ("std", "var"):
        squares = np.bincount(cell, weights=x * x, minlength=size)
        several = contributors > 1
        mean = total[several] / contributors[several]
        variance = (squares[several] - contributors[several] * mean * mean) / (
            contributors[several] - 1
        )
        variance = np.maximum(variance, 0.0)
        value[several] = np.sqrt(variance) if aggfunc == "std" else variance
    return GroupStats(
        rows=rows,
        contributors=contributors.astype(np.int64),
        total=total,
        top=top,
        negatives=negatives.astype(np.int64),
        missing=missing.astype(np.int64),
        non_finite=non_finite.astype(np.int64),
        value=value,
    )


def largest(cell: np.ndarray, x: np.ndarray, size: int, k: int) -> np.ndarray:
    """The ``k`` largest values of each cell, zero-padded, without sorting.

    Each round takes the per-cell maximum (``numpy.maximum.at``) of the values
    left, gives it as many slots as it has ties, and drops those values; a cell
    fills at least one slot per round, so there are at most ``k`` rounds over
    the data. A full sort of millions of rows costs ten times more.
    """
    top = np.zeros((size, k))
    filled = np.zeros(size, dtype=np.int64)
    for _ in range(k):
        if not len(x):
            break
        best = np.full(size, -np.inf)
        np.maximum.at(best, cell, x)
        hit = x == best[cell]
        ties = np.bincount(cell[hit], minlength=size)
        for slot in range(k):
            chosen = (ties > 0) & (filled <= slot) & (slot < filled + ties)
            top[chosen, slot] = best[chosen]
        filled = np.minimum(filled + ties, k)
        keep = ~hit & (filled[cell] < k)
        cell, x = cell[keep], x[keep]
    return top


def _distinct(groups: np.ndarray, units: np.ndarray, size: int) -> np.ndarray:
    frame = pd.DataFrame({"cell": groups, "unit": units}).dropna().drop_duplicates()
    return np.bincount(frame["cell"].to_numpy(dtype=np.int64), minlength=size).astype(np.int64)
