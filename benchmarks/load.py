"""Benchmark: the platform under load, in its production setup.

One command builds a throw-away platform and loads it:

1. a fresh home folder and a fresh database (a uniquely named PostgreSQL database
   on HDH_TEST_POSTGRES_URL, dropped at the end; or a SQLite file);
2. the demo data, with the demo's own setup command (``hdh demo --no-serve``:
   catalog, synthetic SNDS in the lake, applications, a prepared project whose
   workspace is open to demo-researcher), plus one researcher account per
   simulated applicant (a TOTP code is accepted once per account and step);
3. the production server, as an operator starts it: ``HDH_MODE=production``
   (debug off, a generated 86-character secret, allowed hosts 127.0.0.1, secure
   cookies, HSTS, SSL redirect), ``hdh collectstatic``, ``hdh check --deploy``,
   then ``hdh serve`` (waitress, trusting the loopback proxy's
   ``X-Forwarded-Proto``) and ``hdh worker``;
4. the Locust scenario of ``benchmarks/_locustfile.py``, headless, for each
   ``--users`` count in turn: anonymous catalog browsing, catalog search, a
   researcher filing applications, workspace console queries, and the baseline
   (``/healthz`` on the same server, under the same load).

It prints, per load, a markdown table per scenario and per endpoint (requests,
failures, p50/p95/p99, requests per second, and each scenario's p95 over the
baseline's p95), and exits 1 when any request failed or when the overall p95 of
a load exceeds ``--p95-ms``. Server errors are printed from the server's log.

Usage:
    python benchmarks/load.py [--users N [N ...]] [--duration S] [--database sqlite|postgres]
        [--p95-ms MS] [--beneficiaries N] [--spawn-rate R]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess  # nosec B404 - runs hdh and Locust from this virtual environment
import sys
import tempfile
import time
import urllib.request
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from _database import configure, drop  # a sibling module of this script

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LOCUSTFILE = Path(__file__).resolve().parent / "_locustfile.py"
APPLICANT_PASSWORD = "Charge-Recherche-2025!"  # noqa: S105 - a throw-away test account
BASELINE = "baseline"


# --- the platform ------------------------------------------------------------------


def hdh(*args: str, env: dict[str, str], log: Path | None = None) -> None:
    """Run one hdh command to its end; stop the benchmark if it fails."""
    started = time.perf_counter()
    with open(log, "ab") if log else open(os.devnull, "wb") as out:
        done = subprocess.run(  # noqa: S603 # nosec B603 - fixed argv
            [str(BIN / "hdh"), *args], env=env, stdout=out, stderr=subprocess.STDOUT, check=False
        )
    if done.returncode != 0:
        if log:
            sys.stderr.write(log.read_text(errors="replace")[-4000:])
        raise SystemExit(f"hdh {' '.join(args)} failed ({done.returncode})")
    print(f"  hdh {args[0]}: {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)


def plan_load(home: Path, applicants: int) -> dict[str, Any]:
    """Accounts and pages for the scenario, read from (and added to) the demo platform."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hdh.settings")
    import django

    django.setup()
    import random

    from django.db import connections

    from hdh.accounts import services
    from hdh.accounts.demo import create_demo_accounts, demo_totp_secret
    from hdh.accounts.models import Organisation, User
    from hdh.catalog.models import Base, Variable
    from hdh.core.permissions import Role
    from hdh.workspace import demo as workspace_demo
    from hdh.workspace.models import Workspace

    researcher = next(a for a in create_demo_accounts() if a.username == "demo-researcher")
    workspace = Workspace.objects.get(permit__application__title=workspace_demo.TITLE)
    organisation = Organisation.objects.get(acronym="IRSP-DEMO")
    accounts = []
    for number in range(1, applicants + 1):
        username = f"load-researcher-{number:03d}"
        if not User.objects.filter(username=username).exists():
            user = services.create_user(
                by=None,
                username=username,
                email=f"{username}@demo.hdh.example",
                password=APPLICANT_PASSWORD,
                first_name="Chercheuse",
                last_name=f"Charge {number}",
                organisation=organisation,
                roles=[Role.RESEARCHER],
                is_demo=True,
            )
            services.enrol_confirmed_totp(by=None, user=user, secret=demo_totp_secret(username))
        accounts.append(
            {
                "username": username,
                "password": APPLICANT_PASSWORD,
                "totp_secret": demo_totp_secret(username),
            }
        )
    snds = Base.objects.get(slug="snds")
    pairs = list(
        Variable.objects.filter(table__version_id=snds.current_version_id)
        .order_by("table__name", "name")
        .values_list("table__name", "name")
    )
    rng = random.Random(10)  # noqa: S311 - a reproducible load mix, not a secret
    plan = {
        "workspace": workspace.reference,
        "analyst": {
            "username": researcher.username,
            "password": researcher.password,
            "totp_secret": researcher.totp_secret,
        },
        "applicants": accounts,
        "bases": sorted(Base.objects.values_list("slug", flat=True)),
        "variables": rng.sample(pairs, min(300, len(pairs))),
    }
    connections.close_all()
    return plan


def static_fingerprint() -> str:
    """What ``collectstatic`` would produce from: every source file, and the tools."""
    import hashlib
    import importlib.util
    from importlib.metadata import version

    from django.contrib.staticfiles import finders

    digest = hashlib.sha256(f"{version('django')} {version('whitenoise')}".encode())
    digest.update(str(importlib.util.find_spec("brotli") is not None).encode())
    found = []
    for finder in finders.get_finders():
        for path, storage in finder.list(["CVS", ".*", "*~"]):
            stat = os.stat(storage.path(path))
            found.append(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}")
    for line in sorted(found):
        digest.update(line.encode())
    return digest.hexdigest()[:16]


def collect_static(home: Path, env: dict[str, str], cache: Path | None, log: Path) -> None:
    """``hdh collectstatic``, or its output from an earlier run on the same sources.

    Compressing the static files (gzip and Brotli) takes minutes of CPU and does
    not change what the scenario measures: Locust fetches pages, not assets.
    """
    fingerprint = static_fingerprint() if cache else ""
    kept = cache / fingerprint if cache else None
    if kept is not None and (kept / "staticfiles.json").exists():
        shutil.rmtree(home / "static", ignore_errors=True)
        shutil.copytree(kept, home / "static")
        print(f"  static files: copied from {kept}", file=sys.stderr, flush=True)
        return
    hdh("collectstatic", "--noinput", env=env, log=log)
    if kept is not None:
        partial = kept.with_name(kept.name + f".{os.getpid()}")
        shutil.copytree(home / "static", partial)
        for old in cache.iterdir() if cache else ():
            if old.is_dir() and old != partial:
                shutil.rmtree(old, ignore_errors=True)
        os.replace(partial, kept)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    request = urllib.request.Request(url + "/healthz", headers={"X-Forwarded-Proto": "https"})  # noqa: S310
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.stderr.write(log.read_text(errors="replace")[-4000:])
            raise SystemExit("the server stopped while starting")
        try:
            with urllib.request.urlopen(request, timeout=2) as answer:  # noqa: S310 # nosec B310
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not answer /healthz within 60 s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- measuring ---------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    scope: str
    requests: int
    failures: int
    p50: float
    p95: float
    p99: float
    rate: float


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else 0.0


def summarise(scope: str, samples: list[dict[str, Any]], seconds: float) -> Row:
    times = [s["ms"] for s in samples]
    return Row(
        scope=scope,
        requests=len(samples),
        failures=sum(1 for s in samples if s["error"]),
        p50=percentile(times, 0.50),
        p95=percentile(times, 0.95),
        p99=percentile(times, 0.99),
        rate=len(samples) / seconds if seconds > 0 else 0.0,
    )


@dataclass(frozen=True)
class Result:
    users: int
    seconds: float
    scenarios: list[Row]
    endpoints: list[Row]
    overall: Row
    baseline: Row
    errors: Counter[str]


def run_locust(
    *, url: str, users: int, duration: int, spawn_rate: float, plan: dict[str, Any], home: Path
) -> Result:
    samples_file = home / f"samples-{users}.jsonl"
    plan_file = home / f"plan-{users}.json"
    plan_file.write_text(json.dumps({**plan, "samples": str(samples_file)}), encoding="utf-8")
    env = {**os.environ, "HDH_LOAD_PLAN": str(plan_file)}
    command = [
        str(BIN / "locust"),
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--host",
        url,
        "--users",
        str(users),
        "--spawn-rate",
        str(spawn_rate),
        "--run-time",
        f"{duration}s",
        "--stop-timeout",
        "30",
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    started = time.monotonic()
    # Locust's exit code only says whether a request failed; the samples say which.
    subprocess.run(  # noqa: S603 # nosec B603 - fixed argv
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, check=False
    )
    if not samples_file.exists():
        raise SystemExit("Locust wrote no samples")
    samples = [json.loads(line) for line in samples_file.read_text().splitlines() if line]
    seconds = max(
        (max(s["at"] for s in samples) - min(s["at"] for s in samples)) if samples else 0.0,
        min(duration, time.monotonic() - started),
    )
    by_scenario: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_endpoint: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for sample in samples:
        by_scenario[sample["name"].split(":", 1)[0]].append(sample)
        by_endpoint[f"{sample['method']} {sample['name']}"].append(sample)
    work = [s for s in samples if not s["name"].startswith(BASELINE)]
    return Result(
        users=users,
        seconds=seconds,
        scenarios=[
            summarise(name, rows, seconds)
            for name, rows in sorted(by_scenario.items())
            if name != BASELINE
        ],
        endpoints=[summarise(name, rows, seconds) for name, rows in sorted(by_endpoint.items())],
        overall=summarise("overall (without the baseline)", work, seconds),
        baseline=summarise("baseline: /healthz", by_scenario.get(BASELINE, []), seconds),
        errors=Counter(f"{s['name']}: {s['error']}" for s in samples if s["error"]),
    )


# --- reporting ---------------------------------------------------------------------


def report(database: str, results: list[Result], args: argparse.Namespace, threads: int) -> None:
    name = {"sqlite": "SQLite", "postgres": "PostgreSQL"}[database]
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"# load benchmark — {name} — {machine}")
    print(
        f"hdh serve (waitress, {threads} threads) + hdh worker, production settings; "
        f"{args.duration} s per load, spawn rate {args.spawn_rate}/s; "
        f"{args.beneficiaries:,} synthetic beneficiaries; baseline: /healthz on the same server"
    )
    print()
    print(
        "| users | scenario | requests | failures | p50 (ms) | p95 (ms) | p99 (ms) "
        "| req/s | p95 / baseline p95 |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for result in results:
        base = result.baseline.p95 or 1.0
        for row in [*result.scenarios, result.overall, result.baseline]:
            print(
                f"| {result.users} | {row.scope} | {row.requests:,} | {row.failures} "
                f"| {row.p50:.0f} | {row.p95:.0f} | {row.p99:.0f} | {row.rate:.1f} "
                f"| {row.p95 / base:.1f} |"
            )
    for result in results:
        rate = result.overall.failures / max(1, result.overall.requests)
        print()
        print(
            f"{result.users} users: {result.overall.requests:,} requests in "
            f"{result.seconds:.0f} s, error rate {rate:.2%}"
        )
        print()
        print("| endpoint | requests | failures | p50 (ms) | p95 (ms) | p99 (ms) | req/s |")
        print("|---|---|---|---|---|---|---|")
        for row in result.endpoints:
            print(
                f"| {row.scope} | {row.requests:,} | {row.failures} | {row.p50:.0f} "
                f"| {row.p95:.0f} | {row.p99:.0f} | {row.rate:.1f} |"
            )
        for problem, count in result.errors.most_common(10):
            print(f"- {count} × {problem}")
    sys.stdout.flush()


def as_json(results: list[Result], server_errors: int) -> dict[str, Any]:
    def rows(items: list[Row]) -> dict[str, dict[str, Any]]:
        return {row.scope: asdict(row) for row in items}

    return {
        "server_errors": server_errors,
        "loads": [
            {
                "users": r.users,
                "seconds": r.seconds,
                "scenarios": rows(r.scenarios),
                "endpoints": rows(r.endpoints),
                "overall": asdict(r.overall),
                "baseline": asdict(r.baseline),
                "errors": dict(r.errors),
            }
            for r in results
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, nargs="+", default=[20, 50])
    parser.add_argument("--duration", type=int, default=60, help="Seconds per load.")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--p95-ms", type=float, default=500.0, help="Overall p95 threshold.")
    parser.add_argument("--spawn-rate", type=float, default=5.0, help="Users started per second.")
    parser.add_argument(
        "--beneficiaries", type=int, default=100_000, help="Synthetic SNDS beneficiaries."
    )
    parser.add_argument("--threads", type=int, default=8, help="Waitress threads (hdh serve).")
    parser.add_argument(
        "--json", action="store_true", help="Also print the figures as one JSON line, last."
    )
    parser.add_argument(
        "--static-cache",
        default=str(Path.home() / ".cache" / "hdh" / "load-static"),
        help="Reuse collected static files from here ('' to always collect).",
    )
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="hdh-load-"))
    pg_name = configure(args.database, home)
    setup_log = home / "setup.log"
    embedded = {**os.environ, "HDH_DEMO_BENEFICIARIES": str(args.beneficiaries)}
    embedded.pop("HDH_MODE", None)
    processes: list[subprocess.Popen[bytes]] = []
    results: list[Result] = []
    server_log = home / "server.log"
    try:
        print(f"platform home {home}", file=sys.stderr, flush=True)
        hdh("demo", "--no-serve", env=embedded, log=setup_log)
        # Each simulated applicant signs in once with an account of their own.
        plan = plan_load(home, applicants=max(args.users) // 5 + 2)
        port = free_port()
        # Locust plays the TLS proxy too: https addresses, plain HTTP on loopback.
        url = f"https://127.0.0.1:{port}"
        production = {
            **embedded,
            "HDH_MODE": "production",
            "HDH_DEBUG": "false",
            "HDH_SECRET_KEY": secrets.token_urlsafe(64),
            "HDH_ALLOWED_HOSTS": "127.0.0.1",
            "HDH_BASE_URL": f"https://127.0.0.1:{port}",
            # No mail server on this machine: notifications go to files.
            "HDH_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "HDH_LOG_LEVEL": "WARNING",
        }
        collect_static(
            home, production, Path(args.static_cache) if args.static_cache else None, setup_log
        )
        hdh("check", "--deploy", "--fail-level", "WARNING", env=production, log=setup_log)
        with open(server_log, "ab") as out:
            for argv in (
                [
                    "serve",
                    "--port",
                    str(port),
                    "--threads",
                    str(args.threads),
                    "--trusted-proxy",
                    "127.0.0.1",
                ],
                ["worker"],
            ):
                processes.append(
                    subprocess.Popen(  # noqa: S603 # nosec B603 - fixed argv
                        [str(BIN / "hdh"), *argv], env=production, stdout=out, stderr=out
                    )
                )
        wait_until_up(f"http://127.0.0.1:{port}", processes[0], server_log)
        for users in args.users:
            print(f"  {users} users for {args.duration} s…", file=sys.stderr, flush=True)
            results.append(
                run_locust(
                    url=url,
                    users=users,
                    duration=args.duration,
                    spawn_rate=args.spawn_rate,
                    plan=plan,
                    home=home,
                )
            )
    finally:
        for process in reversed(processes):
            stop(process)
        drop(pg_name)
    report(args.database, results, args, args.threads)
    server_errors = [
        line for line in server_log.read_text(errors="replace").splitlines() if "ERROR" in line
    ]
    if server_errors:
        print("\nServer errors (the server's log):", file=sys.stderr)
        sys.stderr.write(server_log.read_text(errors="replace")[-6000:])
    shutil.rmtree(home, ignore_errors=True)
    if args.json:
        print(json.dumps(as_json(results, len(server_errors))))
    failed = [r.users for r in results if r.overall.failures or r.baseline.failures]
    slow = [r.users for r in results if r.overall.p95 > args.p95_ms]
    if failed or slow or server_errors:
        print(
            f"FAILED: errors at {failed or 'no load'}; overall p95 over {args.p95_ms:.0f} ms "
            f"at {slow or 'no load'}; {len(server_errors)} server error line(s)",
            file=sys.stderr,
        )
        raise SystemExit(1)


if __name__ == "__main__":
    main()
