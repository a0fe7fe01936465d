"""Fault injection, CI size: ``benchmarks/faults.py`` with a few worker kills and one
PostgreSQL restart (the benchmark runs 50 kills; figures in docs/benchmarks.md).

Each part runs the script in its own process on its own throw-away home and
database (SQLite for the kills; a private PostgreSQL cluster for the restart),
so neither depends on DATABASE_URL: both run once, in the SQLite pass.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.database_independent, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]


def faults(*args: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HDH_", "DATABASE_URL"))}
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "faults.py"), "--json", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    assert lines, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(lines[-1])
    assert done.returncode == 0, (result, done.stderr[-3000:])
    return result


def test_a_killed_worker_leaves_one_terminal_state_and_no_orphan() -> None:
    kills = faults("--part", "kills", "--kills", "5", "--min-delay", "1", "--max-delay", "4")[
        "kills"
    ]
    assert kills["kills"] == 5
    assert kills["problems"] == []
    runs, jobs = kills["outcomes"]["runs"], kills["outcomes"]["jobs"]
    # Each cycle queues a run when none is under way and tops the jobs up to three
    # in flight: how many depends on how far the killed worker got, so the check is
    # that every queued run and job is accounted for, once, in a terminal state.
    assert kills["queued"]["runs"] >= 1
    assert kills["queued"]["jobs"] >= 3
    assert sum(runs.values()) == kills["queued"]["runs"]
    assert sum(jobs.values()) == kills["queued"]["jobs"]
    assert kills["outcomes"]["datasets"] == runs.get("succeeded", 0)


@pytest.mark.skipif(
    not glob.glob("/usr/lib/postgresql/*/bin/initdb"),
    reason="PostgreSQL's initdb is not installed: no private cluster to restart",
)
def test_postgresql_restarts_leave_no_half_applied_transition() -> None:
    restarts = faults("--part", "pg-restart", "--pg-restarts", "1")["pg_restarts"]
    assert restarts["restarts"] == 1
    assert restarts["problems"] == []
    assert restarts["applications_checked"] >= 1
    assert restarts["requests_checked"] >= 1
