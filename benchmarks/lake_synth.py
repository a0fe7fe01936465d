"""Benchmark: synthetic SNDS generation and lake ingestion.

Each measure runs in its own process, so its peak memory (maximum resident set
size) is its own:

* ``synth``: ``hdh.synth.snds.generate`` for about N care lines (ER_PRS_F rows),
  in ER_PRS_F rows per second (all seven tables and the identities are written);
* ``ingest``: ``hdh.lake.services.ingest`` of an ER_PRS_F CSV (validation against
  the catalogued schema, code lists, keys, foreign key to the deposited IR_BEN_R,
  versioned Parquet, profiles) against DuckDB's own ``COPY (FROM read_csv(...))
  TO parquet`` of the same file, in the same run;
* ``stata`` and ``sas``: the same ingestion of IR_BEN_R as a Stata file, and as a
  SAS7BDAT file (both read by ReadStat). pyreadstat cannot write SAS7BDAT: the
  SAS file is converted from the Stata one by the ReadStat command line
  (Debian package ``readstat``), and the measure is skipped without it.

Usage:
    python benchmarks/lake_synth.py [--sizes 1000000 10000000] [--csv-rows 1000000]
                                    [--database sqlite|postgres]

The lake does not depend on the metadata database (a temporary SQLite file): with
``--database postgres`` the script says so and measures nothing twice. Prints
Markdown table rows.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TABLES = ["IR_BEN_R", "ER_PRS_F", "ER_PHA_F", "ER_BIO_F", "T_MCOaaB", "T_MCOaaC", "KI_CCI_R"]


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_synth(rows: int, out: Path) -> dict[str, float]:
    from hdh.synth import snds
    from hdh.synth.schema import snds_shapes_from_files

    shapes = snds_shapes_from_files(snds.TABLES)
    spec = snds.SndsSpec(beneficiaries=snds.beneficiaries_for(rows), seed=1)
    started = time.perf_counter()
    # A fixed level-1 key: the benchmark needs no key store (nor Django settings).
    result = snds.generate(
        spec=spec,
        out=out / "tables",
        identity_out=out / "id",
        shapes=shapes,
        level1_key=bytes(32),
    )
    seconds = time.perf_counter() - started
    return {
        "rows": result.rows["ER_PRS_F"],
        "all_rows": sum(result.rows.values()),
        "seconds": seconds,
        "peak_mib": peak_mib(),
    }


def _django(home: Path) -> None:
    os.environ["HDH_HOME"] = str(home)
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "hdh.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _base_and_producer(home: Path) -> tuple[object, object]:
    sys.path.insert(0, str(ROOT))
    from tests.factories.lake import create_producer, create_snds_base

    return create_snds_base(home / "schema", slug="snds"), create_producer()


def worker_ingest(rows: int, out: Path) -> dict[str, float]:
    import duckdb

    _django(out / "home")
    from hdh.lake.models import DepositStatus
    from hdh.lake.services import ingest
    from hdh.synth import snds
    from hdh.synth.arrow import table_files
    from hdh.synth.schema import snds_shapes_from_files

    base, producer = _base_and_producer(out / "home")
    spec = snds.SndsSpec(beneficiaries=snds.beneficiaries_for(rows), seed=2)
    generated = snds.generate(
        spec=spec,
        out=out / "tables",
        identity_out=out / "id",
        shapes=snds_shapes_from_files(snds.TABLES),
    )
    people = table_files(generated.folder, "IR_BEN_R")
    first = ingest(base=base, table="IR_BEN_R", files=people, by=producer)
    assert first.status == DepositStatus.ACCEPTED, first.report
    csv = out / "ER_PRS_F.csv"
    parquet = generated.folder / "ER_PRS_F" / "*.parquet"
    duckdb.sql(f"COPY (FROM '{parquet}') TO '{csv}' (HEADER, DELIMITER ';')")
    started = time.perf_counter()
    duckdb.sql(f"COPY (FROM read_csv('{csv}')) TO '{out / 'baseline.parquet'}' (FORMAT parquet)")
    baseline = time.perf_counter() - started
    started = time.perf_counter()
    deposit = ingest(base=base, table="ER_PRS_F", files=[csv], by=producer)
    seconds = time.perf_counter() - started
    assert deposit.status == DepositStatus.ACCEPTED, deposit.report
    return {
        "rows": deposit.row_count,
        "seconds": seconds,
        "baseline_seconds": baseline,
        "megabytes": csv.stat().st_size / 1e6,
        "peak_mib": peak_mib(),
    }


def _ir_ben_r_frame(rows: int, out: Path) -> Any:
    """IR_BEN_R of ``rows`` synthetic beneficiaries as a data frame ReadStat can write."""
    import pyarrow.parquet as pq

    from hdh.synth import snds
    from hdh.synth.schema import snds_shapes_from_files

    generated = snds.generate(
        spec=snds.SndsSpec(beneficiaries=rows, seed=3),
        out=out / "tables",
        identity_out=out / "id",
        shapes=snds_shapes_from_files(snds.TABLES),
    )
    frame = pq.read_table(generated.folder / "IR_BEN_R").to_pandas()
    # Stata and SAS store text, numbers and dates; everything else travels as text.
    for column in frame.columns:
        if frame[column].dtype.kind not in "biuf":
            frame[column] = frame[column].astype(str).replace({"None": "", "NaT": "", "nan": ""})
    return frame


def _deposit_timed(path: Path, out: Path) -> dict[str, float]:
    from hdh.lake.models import DepositStatus
    from hdh.lake.services import ingest

    base, producer = _base_and_producer(out / "home")
    started = time.perf_counter()
    deposit = ingest(base=base, table="IR_BEN_R", files=[path], by=producer)
    seconds = time.perf_counter() - started
    assert deposit.status == DepositStatus.ACCEPTED, deposit.report
    return {"rows": deposit.row_count, "seconds": seconds, "peak_mib": peak_mib()}


def worker_stata(rows: int, out: Path) -> dict[str, float]:
    import pyreadstat

    _django(out / "home")
    stata = out / "IR_BEN_R.dta"
    pyreadstat.write_dta(_ir_ben_r_frame(rows, out), str(stata))
    return _deposit_timed(stata, out)


def worker_sas(rows: int, out: Path) -> dict[str, float]:
    """A SAS7BDAT written by the ReadStat command line (Debian ``readstat``) from Stata."""
    import pyreadstat

    readstat = shutil.which("readstat")
    if readstat is None:
        return {"skipped": 1.0}
    _django(out / "home")
    stata, sas = out / "IR_BEN_R.dta", out / "IR_BEN_R.sas7bdat"
    pyreadstat.write_dta(_ir_ben_r_frame(rows, out), str(stata))
    subprocess.run([readstat, str(stata), str(sas)], check=True, capture_output=True)  # noqa: S603
    return _deposit_timed(sas, out)


WORKERS = {
    "synth": worker_synth,
    "ingest": worker_ingest,
    "stata": worker_stata,
    "sas": worker_sas,
}


def run(kind: str, rows: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix=f"hdh-bench-{kind}-") as tmp:
        output = subprocess.run(  # noqa: S603
            [sys.executable, __file__, "--worker", kind, "--rows", str(rows), "--out", tmp],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        ).stdout
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--csv-rows", type=int, default=1_000_000)
    parser.add_argument("--stata-rows", type=int, default=100_000)
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(WORKERS[args.worker](args.rows, args.out)))
        return
    if args.database != "sqlite":
        # The figures do not depend on the metadata database: measured once.
        print("lake_synth: same figures as the sqlite run (the lake does not use the database)")
        return

    cores = os.cpu_count() or 1
    print(f"machine: {platform.machine()}, {cores} cores, Python {platform.python_version()}")
    print("| measure | rows | seconds | rows/s | rows/s per core | peak RSS (MiB) |")
    print("|---|---|---|---|---|---|")
    for size in args.sizes:
        r = run("synth", size)
        rate = r["rows"] / r["seconds"]
        print(
            f"| synth ER_PRS_F (~{size:,} target; {r['all_rows']:,.0f} rows in all tables) "
            f"| {r['rows']:,.0f} | {r['seconds']:.1f} | {rate:,.0f} | {rate / cores:,.0f} "
            f"| {r['peak_mib']:,.0f} |"
        )
    r = run("ingest", args.csv_rows)
    ours, base = r["rows"] / r["seconds"], r["rows"] / r["baseline_seconds"]
    print(
        f"| ingest ER_PRS_F CSV ({r['megabytes']:,.0f} MB, 123 columns) | {r['rows']:,.0f} "
        f"| {r['seconds']:.1f} | {ours:,.0f} | {ours / cores:,.0f} | {r['peak_mib']:,.0f} |"
    )
    print(
        f"| DuckDB COPY of the same CSV to Parquet | {r['rows']:,.0f} "
        f"| {r['baseline_seconds']:.1f} | {base:,.0f} | {base / cores:,.0f} | – |"
    )
    print(f"\nratio ingest / DuckDB COPY (time): {r['seconds'] / r['baseline_seconds']:.1f}")
    for kind, label in (("stata", "Stata"), ("sas", "SAS7BDAT")):
        r = run(kind, args.stata_rows)
        if r.get("skipped"):
            print(
                f"| ingest IR_BEN_R {label}: skipped (no `readstat` command) | – | – | – | – | – |"
            )
            continue
        rate = r["rows"] / r["seconds"]
        print(
            f"| ingest IR_BEN_R {label} (ReadStat path) | {r['rows']:,.0f} | {r['seconds']:.1f} "
            f"| {rate:,.0f} | {rate / cores:,.0f} | {r['peak_mib']:,.0f} |"
        )


if __name__ == "__main__":
    main()
