# Benchmark SQL is built from constants and generated paths; the random sample is
# test data; openssl is looked up on PATH on purpose.
# ruff: noqa: S608, S311, S607
"""Benchmark: data preparation (extraction plan run) on DuckDB and on Spark.

Data: synthetic SNDS (``hdh.synth``) over three years, about ``--rows`` ER_PRS_F
rows with IR_BEN_R, laid out as lake versions. The plan extracts ER_PRS_F over
two years (2022-2023), 20 columns, the beneficiaries born 1950-1990 (population
subset read from IR_BEN_R), without the 1 % of people in the objection register,
with project pseudonyms (HMAC-SHA-256 once per distinct person, then a join).

Measures, each in its own process so that its peak memory is its own (resident
set size of the process and all its children, sampled, so the Spark JVM counts):

* ``prepare``: ``hdh.preparation.runner.Runner.run`` on each engine, in input
  ER_PRS_F rows per second per core, against a plain DuckDB
  ``COPY (SELECT <the 20 columns> ... WHERE <period>) TO ... (FORMAT parquet)``
  of the same file in the same run (goal: within 1.5x of that copy);
* ``hmac``: project pseudonyms per second per core through each engine's SQL
  (``Dialect.hmac_sha256_hex`` over distinct 17-character identifiers) and through
  Python's ``hmac``, against ``openssl speed -seconds 3 sha256`` (16-byte inputs,
  one core) run by this script;
* the Spark / DuckDB time ratio on the same data (the Spark JVM start is reported
  apart, as a process starts it once).

Usage:
    python benchmarks/preparation.py [--rows 10000000] [--engines duckdb spark]
                                     [--hmac-rows 2000000] [--database sqlite|postgres]
                                     [--data DIR]

``--data DIR`` keeps the generated lake in DIR and reuses it on the next run with
the same ``--rows`` (generating 100 million rows takes longer than measuring them).

The preparation does not use the metadata database: with ``--database postgres``
the script says so and measures nothing twice. Prints Markdown table rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import hmac
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
KEY = hashlib.sha256(b"hdh benchmark project key").digest()
LEVEL1_KEY = hashlib.sha256(b"hdh benchmark level-1 key").digest()
START, YEARS = dt.date(2021, 1, 1), 3
PERIOD = ("2022-01-01", "2023-12-31")
BIRTH_YEARS = (1950, 1990)
COLUMNS = 20
OBJECTING_SHARE = 0.01


# --- peak memory of a process tree ---------------------------------------------------
def _tree_rss_bytes(root: int) -> int:
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/statm") as handle:
                rss[int(entry)] = int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


class PeakMemory:
    """Samples the RSS of this process and its descendants every 0.2 s."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _tree_rss_bytes(os.getpid()))
            self._stop.wait(0.2)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _tree_rss_bytes(os.getpid()))

    @property
    def mib(self) -> float:
        return self.peak / 2**20


# --- data --------------------------------------------------------------------------
def _django(out: Path) -> None:
    os.environ["HDH_HOME"] = str(out / "home")
    os.environ["HDH_LAKE"] = str(out / "lake")
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "hdh.settings"
    import django

    django.setup()


def _lake_version(source: Path, lake: Path, table: str) -> list[Path]:
    """The generated table as version 1 of a lake table (files and manifest)."""
    folder = lake / "bench" / table / "v1"
    folder.mkdir(parents=True)
    files = []
    for part in sorted(source.glob("part-*.parquet")):
        shutil.move(part, folder / part.name)
        files.append(folder / part.name)
    manifest = {"files": [{"path": f.name} for f in files]}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return files


def worker_generate(rows: int, out: Path) -> dict[str, Any]:
    import pyarrow.parquet as pq

    from hdh.synth import snds
    from hdh.synth.schema import snds_shapes_from_files

    days = (dt.date(START.year + YEARS, 1, 1) - START).days
    spec = snds.SndsSpec(
        beneficiaries=snds.beneficiaries_for(rows, days=days), seed=11, start=START, days=days
    )
    started = time.perf_counter()
    result = snds.generate(
        spec=spec,
        out=out / "synth",
        identity_out=out / "synth-id",
        shapes=snds_shapes_from_files(snds.TABLES),
        level1_key=LEVEL1_KEY,
    )
    seconds = time.perf_counter() - started
    lake = out / "lake"
    for table in ("ER_PRS_F", "IR_BEN_R"):
        _lake_version(result.folder / table, lake, table)
    shutil.rmtree(out / "synth", ignore_errors=True)
    shutil.rmtree(out / "synth-id", ignore_errors=True)
    people = pq.read_table(
        lake / "bench" / "IR_BEN_R" / "v1" / "part-00000.parquet", columns=["BEN_NIR_PSA"]
    ).column(0)
    persons = sorted(set(people.to_pylist()))
    chosen = random.Random(3).sample(persons, round(len(persons) * OBJECTING_SHARE))
    (out / "objectors.json").write_text(json.dumps(chosen), encoding="utf-8")
    return {
        "rows": result.rows["ER_PRS_F"],
        "persons": len(persons),
        "objectors": len(chosen),
        "seconds": seconds,
    }


def _columns(out: Path) -> list[str]:
    import pyarrow.parquet as pq

    files = sorted((out / "lake" / "bench" / "ER_PRS_F" / "v1").glob("part-*.parquet"))
    names = pq.read_schema(files[0]).names
    wanted = ["BEN_NIR_PSA", "EXE_SOI_DTD"]
    others = [n for n in names if n not in wanted and n not in {"BEN_NIR_ANO", "BEN_IDT_ANO"}]
    return wanted + others[: COLUMNS - len(wanted)]


def _plan(out: Path) -> Any:
    from hdh.preparation.plan import FORMAT, Options, Plan, Population, Source, TablePlan

    columns = _columns(out)
    care = TablePlan(
        table="ER_PRS_F",
        version=1,
        path="bench/ER_PRS_F/v1",
        columns=columns,
        types={},
        person_columns=["BEN_NIR_PSA"],
        filter_person_columns=["BEN_NIR_PSA"],
        period_column="EXE_SOI_DTD",
        date_columns=[],
        key_columns=[],
    )
    people = Source("IR_BEN_R", 1, "bench/IR_BEN_R/v1", ["BEN_NIR_PSA"], None)
    return Plan(
        format=FORMAT,
        permit="bench",
        project="bench",
        application_id=1,
        base="bench",
        period_start=PERIOD[0],
        period_end=PERIOD[1],
        tables=[care],
        population=Population(birth_year_min=BIRTH_YEARS[0], birth_year_max=BIRTH_YEARS[1]),
        options=Options(),
        sources={"IR_BEN_R": people},
    )


# --- measures ----------------------------------------------------------------------
def worker_prepare(engine_name: str, out: Path) -> dict[str, Any]:
    _django(out)
    from hdh.engines import get_engine
    from hdh.preparation.runner import Runner

    plan = _plan(out)
    objectors = set(json.loads((out / "objectors.json").read_text(encoding="utf-8")))
    staging = out / f"staging-{engine_name}"
    with PeakMemory() as memory:
        started = time.perf_counter()
        with get_engine(engine_name, workdir=out / f"work-{engine_name}") as engine:
            engine.scalar("SELECT 1")
            ready = time.perf_counter()
            outcome = Runner(engine, plan, key=KEY, objectors=objectors, staging=staging).run()
            seconds = time.perf_counter() - ready
            # The checks that make the figures meaningful: same rows on every engine.
            written = staging / "ER_PRS_F.parquet"
            check = engine.fetch(
                f"SELECT count(*), count(DISTINCT BEN_NIR_PSA), min(EXE_SOI_DTD), "
                f"max(EXE_SOI_DTD) FROM {engine.dialect.read_parquet([written])}"
            )[0]
    shutil.rmtree(staging, ignore_errors=True)
    return {
        "seconds": seconds,
        "start_seconds": ready - started,
        "rows_out": outcome.tables[0].rows,
        "persons": outcome.persons,
        "check": [str(v) for v in check],
        "peak_mib": memory.mib,
    }


def worker_copy(_: str, out: Path) -> dict[str, Any]:
    import duckdb

    columns = ", ".join(f'"{c}"' for c in _columns(out))
    files = sorted((out / "lake" / "bench" / "ER_PRS_F" / "v1").glob("part-*.parquet"))
    listed = "[" + ", ".join(f"'{f}'" for f in files) + "]"
    target = out / "copy.parquet"
    with PeakMemory() as memory:
        connection = duckdb.connect()
        started = time.perf_counter()
        connection.execute(
            f"COPY (SELECT {columns} FROM read_parquet({listed}) "
            f"WHERE EXE_SOI_DTD BETWEEN DATE '{PERIOD[0]}' AND DATE '{PERIOD[1]}') "
            f"TO '{target}' (FORMAT parquet)"
        ).fetchall()
        seconds = time.perf_counter() - started
        rows = connection.execute(f"SELECT count(*) FROM '{target}'").fetchone()[0]  # type: ignore[index]
    target.unlink()
    return {"seconds": seconds, "rows_out": rows, "peak_mib": memory.mib}


def worker_hmac(engine_name: str, out: Path) -> dict[str, Any]:
    from hdh.engines import get_engine

    count = int(os.environ["HDH_BENCH_HMAC_ROWS"])
    with get_engine(engine_name, workdir=out / f"hmac-{engine_name}") as engine:
        d = engine.dialect
        identifiers = (
            f"SELECT 'P' || lpad(CAST(n AS VARCHAR), 16, '0') AS p FROM range({count}) AS t(n)"
        )
        plain = f"SELECT max(p) FROM ({identifiers}) i"
        hashed = f"SELECT max({d.hmac_sha256_hex(KEY, 'p')}) FROM ({identifiers}) i"
        engine.scalar(plain)  # warm-up (Spark compiles its code on first use)
        started = time.perf_counter()
        engine.scalar(plain)
        base = time.perf_counter() - started
        started, cpu = time.perf_counter(), _tree_cpu_seconds(os.getpid())
        engine.scalar(hashed)
        seconds = time.perf_counter() - started
        cpu = _tree_cpu_seconds(os.getpid()) - cpu
    return {"count": count, "seconds": seconds, "cpu_seconds": cpu, "generation_seconds": base}


def _tree_cpu_seconds(root: int) -> float:
    """CPU time (user + system) of a process and its descendants, threads included."""
    ticks = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    used: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
        used[int(entry)] = (int(fields[11]) + int(fields[12])) / ticks
    total, stack = 0.0, [root]
    while stack:
        pid = stack.pop()
        total += used.get(pid, 0.0)
        stack.extend(children.get(pid, []))
    return total


def python_hmac_rate(count: int = 1_000_000) -> tuple[float, float]:
    """Python ``hmac`` per second of wall time and per CPU-second."""
    values = [f"P{n:016d}".encode() for n in range(count)]
    started, cpu = time.perf_counter(), time.process_time()
    for value in values:
        hmac.new(KEY, value, hashlib.sha256).hexdigest()
    return count / (time.perf_counter() - started), count / (time.process_time() - cpu)


def openssl_sha256_rate() -> tuple[float, str]:
    """16-byte SHA-256 hashes per second on one core, and OpenSSL's version."""
    version = subprocess.run(
        ["openssl", "version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    output = subprocess.run(
        ["openssl", "speed", "-seconds", "3", "sha256"], capture_output=True, text=True, check=True
    ).stdout
    line = next(row for row in output.splitlines() if re.match(r"^sha256\s+[0-9.]+k", row))
    kilobytes = float(line.split()[1].rstrip("k"))
    return kilobytes * 1000 / 16, version


WORKERS = {"generate": worker_generate, "prepare": worker_prepare, "copy": worker_copy}
WORKERS_BY_ENGINE = {"hmac": worker_hmac}


def run(kind: str, argument: str, out: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    result = subprocess.run(  # noqa: S603
        [sys.executable, __file__, "--worker", kind, "--arg", argument, "--out", str(out)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )
    answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--engines", nargs="+", default=["duckdb", "spark"])
    parser.add_argument("--hmac-rows", type=int, default=2_000_000)
    parser.add_argument("--worker", choices=sorted(WORKERS | WORKERS_BY_ENGINE))
    parser.add_argument("--arg", default="")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--data", type=Path, help="Keep the generated data here and reuse it.")
    args = parser.parse_args()
    if args.worker:
        work: Any = {**WORKERS, **WORKERS_BY_ENGINE}[args.worker]
        argument: Any = int(args.arg) if args.worker == "generate" else args.arg
        print(json.dumps(work(argument, args.out)))
        return
    if args.database != "sqlite":
        print("preparation: same figures as the sqlite run (preparation does not use it)")
        return

    cores = os.cpu_count() or 1
    print(f"machine: {platform.machine()}, {cores} cores, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory(prefix="hdh-bench-preparation-") as tmp:
        out = args.data or Path(tmp)
        done = out / f"generated-{args.rows}.json"
        if done.exists():
            data = json.loads(done.read_text(encoding="utf-8"))
        else:
            if args.data and args.data.exists() and any(args.data.iterdir()):
                sys.exit(f"{args.data} holds other data: give an empty or new folder")
            out.mkdir(parents=True, exist_ok=True)
            data = run("generate", str(args.rows), out)
            done.write_text(json.dumps(data), encoding="utf-8")
        rows = data["rows"]
        print(
            f"data: ER_PRS_F {rows:,} rows over {YEARS} years, {data['persons']:,} persons, "
            f"{data['objectors']:,} objectors ({data['seconds']:.0f} s to generate)"
        )
        copy = run("copy", "", out)
        print(
            "\n| measure | input rows | rows out | seconds | input rows/s per core "
            "| vs DuckDB COPY (time) | peak RSS (MiB) |"
        )
        print("|---|---|---|---|---|---|---|")
        print(
            f"| DuckDB COPY of the 20 columns over the period | {rows:,} | {copy['rows_out']:,} "
            f"| {copy['seconds']:.1f} | {rows / copy['seconds'] / cores:,.0f} | 1.0 "
            f"| {copy['peak_mib']:,.0f} |"
        )
        prepared = {}
        for engine in args.engines:
            r = prepared[engine] = run("prepare", engine, out)
            print(
                f"| preparation on {engine} (start {r['start_seconds']:.1f} s apart) | {rows:,} "
                f"| {r['rows_out']:,} | {r['seconds']:.1f} | {rows / r['seconds'] / cores:,.0f} "
                f"| {r['seconds'] / copy['seconds']:.2f} | {r['peak_mib']:,.0f} |"
            )
        checks = {json.dumps(r["check"]) for r in prepared.values()}
        print(f"\nsame rows on every engine: {len(checks) == 1} ({checks.pop()})")
        if "duckdb" in prepared and "spark" in prepared:
            ratio = prepared["spark"]["seconds"] / prepared["duckdb"]["seconds"]
            print(f"Spark / DuckDB preparation time: {ratio:.2f}")

        openssl, version = openssl_sha256_rate()
        python, python_cpu = python_hmac_rate()
        # openssl speed counts CPU time: the per-CPU-second column is the one to compare
        # with it on a loaded machine.
        print(
            "\n| pseudonyms (HMAC-SHA-256, 17 characters) | per second per core (wall) "
            "| per CPU-second | CPU-second rate vs openssl |"
        )
        print("|---|---|---|---|")
        print(f"| `openssl speed sha256`, 16-byte inputs ({version}) | – | {openssl:,.0f} | 1 |")
        print(
            f"| Python `hmac` (1 core) | {python:,.0f} | {python_cpu:,.0f} "
            f"| {python_cpu / openssl:.2f} |"
        )
        for engine in args.engines:
            h = run("hmac", engine, out, {"HDH_BENCH_HMAC_ROWS": str(args.hmac_rows)})
            rate = h["count"] / h["seconds"] / cores
            per_cpu = h["count"] / h["cpu_seconds"]
            print(
                f"| {engine} SQL (`hmac_sha256_hex`, {h['count']:,} ids, {cores} cores) "
                f"| {rate:,.0f} | {per_cpu:,.0f} | {per_cpu / openssl:.2f} |"
            )


if __name__ == "__main__":
    main()
