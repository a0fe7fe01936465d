"""Benchmark: airlock disclosure checks against ACRO, same tables, same run.

For each size N (cells), row-level data with about ``--rows-per-cell`` rows per
cell is generated (a square table of sqrt(N) x sqrt(N) categories, skewed so that
some cells are large and many are small, with a few dominant contributions), then
two tables are computed *from the row-level data* and checked:

* ``counts``: a frequency table (threshold and zero checks);
* ``magnitudes``: a table of means of a cost column (threshold, (n,k) dominance,
  p % rule, negatives, missing values).

hdh: ``hdh.airlock.check.crosstab`` (primary checks; secondary suppression timed
separately, ACRO has none). Each side gets one warm-up call on a small table,
then one timed call per table. Baseline: ``acro.ACRO().crosstab`` (the pinned
version), the same call a researcher makes. Both use ACRO's thresholds (minimum
count 10) so that the verdicts can be compared cell by cell; the script prints
whether every flagged cell is the same for every shared check and exits with an
error if not.

Usage:
    python benchmarks/airlock_checks.py [--cells 10000 1000000]
        [--rows-per-cell 5] [--skip-acro-above N] [--database sqlite|postgres]

The checks use no database: with ``--database postgres`` the script says so and
measures nothing twice. Prints Markdown table rows.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from hdh.airlock import check  # noqa: E402 - after the path set-up

SHARED = {
    "threshold": "MinimumThresholdCheck",
    "zero": "PresenceOfZeroCheck",
    "nk-rule": "NKCheck",
    "p-ratio": "PPercentCheck",
}


def row_level(cells: int, rows_per_cell: float, seed: int = 7) -> pd.DataFrame:
    side = math.isqrt(cells)
    rows = int(side * side * rows_per_cell)
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, side + 1) ** 0.6  # skewed categories
    weights /= weights.sum()
    cost = rng.gamma(1.5, 80.0, rows)
    dominant = rng.random(rows) < 0.002
    cost[dominant] *= 1000.0
    return pd.DataFrame(
        {
            "row": rng.choice(side, rows, p=weights),
            "col": rng.choice(side, rows, p=weights[::-1]),
            "cost": cost,
        }
    )


def ours(data: pd.DataFrame, kind: str, secondary: bool) -> tuple[float, check.OutputReport]:
    policy = check.Policy(min_count=10, secondary_suppression=secondary)
    extra = {"values": "cost", "aggfunc": "mean"} if kind == "magnitudes" else {}
    started = time.perf_counter()
    report = check.crosstab(data, "row", "col", policy=policy, **extra)
    return time.perf_counter() - started, report


def acro_run(data: pd.DataFrame, kind: str) -> tuple[float, pd.DataFrame, dict[str, set]]:
    import acro  # optional, heavy: only when measuring

    warnings.simplefilter("ignore", FutureWarning)
    previous = os.getcwd()
    os.chdir(tempfile.mkdtemp(prefix="acro-bench-"))
    try:
        session = acro.ACRO(suppress=False)
        logging.getLogger("acro").setLevel(logging.ERROR)
        warm = data.head(1000)
        session.crosstab(warm.row, warm.col, values=warm.cost, aggfunc="mean")  # warm-up
        session.results.output_id = 0
        session.results.results.clear()
        extra = {"values": data.cost, "aggfunc": "mean"} if kind == "magnitudes" else {}
        started = time.perf_counter()
        table = session.crosstab(data.row, data.col, **extra)
        seconds = time.perf_counter() - started
    finally:
        os.chdir(previous)
    cells = session.results.results["output_0"].sdc["cells"]
    masks = {name: {(int(r), int(c)) for r, c in cells.get(name, [])} for name in SHARED.values()}
    return seconds, table, masks


def our_masks(report: check.OutputReport) -> dict[str, set]:
    out: dict[str, set] = {name: set() for name in SHARED.values()}
    for rule, name in SHARED.items():
        if rule in report.masks:
            rows, cols = np.nonzero(report.masks[rule])
            out[name] = set(zip(rows.tolist(), cols.tolist(), strict=True))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--rows-per-cell", type=float, default=5.0)
    parser.add_argument("--skip-acro-above", type=int, default=None)
    parser.add_argument("--database", default="sqlite")
    args = parser.parse_args()
    if args.database != "sqlite":
        print("airlock_checks: the disclosure checks use no database; measured once, on sqlite")
        return
    print(f"# {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    columns = ["cells", "rows", "table", "hdh (s)", "hdh + secondary (s)", "ACRO (s)", "ratio"]
    print("| " + " | ".join([*columns, "same verdicts"]) + " |")
    print("|---|---|---|---|---|---|---|---|")
    mismatches = 0
    warm = row_level(10_000, 1.0)
    ours(warm, "magnitudes", secondary=True)  # warm-up: first calls, caches
    for cells in args.cells:
        data = row_level(cells, args.rows_per_cell)
        for kind in ("counts", "magnitudes"):
            mine, report = ours(data, kind, secondary=False)
            with_secondary, _ = ours(data, kind, secondary=True)
            if args.skip_acro_above is not None and cells > args.skip_acro_above:
                print(
                    f"| {cells:,} | {len(data):,} | {kind} | {mine:.3f} | {with_secondary:.3f} "
                    "| skipped | | |"
                )
                continue
            theirs, table, masks = acro_run(data, kind)
            same_table = table.shape == report.table.shape and np.allclose(
                table.to_numpy(float), report.table.to_numpy(float), equal_nan=True
            )
            same = same_table and masks == our_masks(report)
            mismatches += not same
            flagged = sum(len(cells_) for cells_ in masks.values())
            print(
                f"| {cells:,} | {len(data):,} | {kind} | {mine:.3f} | {with_secondary:.3f} "
                f"| {theirs:.1f} | {theirs / mine:,.0f}x | {'yes' if same else 'NO'} "
                f"({flagged:,} flags) |",
                flush=True,
            )
    if mismatches:
        sys.exit(f"{mismatches} table(s) with verdicts different from ACRO's")


if __name__ == "__main__":
    main()
