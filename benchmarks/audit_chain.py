"""Benchmark: the cost of the tamper-evident audit log.

Compares, in the same run and on the same database:

* ``record()`` (hash chain + head lock + checks) against a plain ORM insert of
  the same row (baseline), in events per second;
* ``hdh audit verify`` against a plain scan of the same rows (baseline).

Usage:
    python benchmarks/audit_chain.py [--events N] [--database sqlite|postgres]

It uses a fresh temporary database (SQLite file, or a throw-away PostgreSQL
database on HDH_TEST_POSTGRES_URL) and prints a Markdown table row per figure.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import uuid
from pathlib import Path

from _database import configure, drop  # a sibling module of this script

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="hdh-bench-") as tmp:
        pg_name = configure(args.database, Path(tmp))
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hdh.settings")
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection, transaction

        from hdh.audit import chain, services
        from hdh.audit.models import AuditEvent
        from hdh.audit.verify import verify
        from hdh.core import clock

        try:
            call_command("migrate", verbosity=0, interactive=False)
            n = args.events

            # Baseline: the same rows, inserted one transaction each, without the chain.
            start = time.perf_counter()
            for i in range(n):
                with transaction.atomic():
                    AuditEvent(
                        seq=10_000_000 + i,
                        occurred_at=clock.now(),
                        action="bench.baseline",
                        outcome="success",
                        details={"i": i},
                        prev_hash=chain.GENESIS,
                        hash=uuid.uuid4().hex + uuid.uuid4().hex,
                    ).save()
            baseline_insert = time.perf_counter() - start
            # Remove the baseline rows (tests and benchmarks only) before the real chain.
            from hdh.audit import triggers

            triggers.remove(connection)
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM audit_auditevent")
            triggers.install(connection)

            start = time.perf_counter()
            for i in range(n):
                with transaction.atomic():
                    services.record(action="bench.event", details={"i": i})
            chained_insert = time.perf_counter() - start

            start = time.perf_counter()
            rows = 0
            fields = (*chain.EVENT_FIELDS, "prev_hash", "hash")
            for _ in AuditEvent.objects.order_by("seq").values(*fields).iterator(5000):
                rows += 1
            baseline_scan = time.perf_counter() - start

            start = time.perf_counter()
            report = verify()
            verify_time = time.perf_counter() - start
            if not report.ok or report.events_checked != n or rows != n:
                raise SystemExit(f"verify failed: {report.problems}")
        finally:
            drop(pg_name)

    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"# audit chain benchmark — {args.database}, {n} events — {machine}")
    print("| measure | hdh | baseline | ratio |")
    print("|---|---|---|---|")
    print(
        f"| append (events/s) | {n / chained_insert:,.0f} (record) | "
        f"{n / baseline_insert:,.0f} (plain insert) | "
        f"{chained_insert / baseline_insert:.2f} x time |"
    )
    print(
        f"| verify (events/s) | {n / verify_time:,.0f} (audit verify) | "
        f"{n / baseline_scan:,.0f} (plain scan of the same rows) | "
        f"{verify_time / baseline_scan:.2f} x time |"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
