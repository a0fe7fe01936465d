"""Load scenario, CI size: ``benchmarks/load.py`` for 15 s with 11 users (one of
each kind at least, and the baseline probe) against the production server.

The script builds its own home and database — SQLite, or a fresh PostgreSQL
database on the server of DATABASE_URL in the PostgreSQL pass — loads the demo,
starts ``hdh serve`` and ``hdh worker`` in production mode and drives them with
Locust. No timing is asserted (the machine is shared): every request must
succeed, every scenario must have run, and the server must log no error. The
figures at the target load are in docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


def run_load(database: str, server: str | None) -> tuple[subprocess.CompletedProcess[str], Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HDH_", "DATABASE_URL"))}
    if server:
        env["HDH_TEST_POSTGRES_URL"] = server
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "load.py"),
            "--database",
            database,
            "--users",
            "11",
            "--duration",
            "15",
            "--spawn-rate",
            "11",
            "--beneficiaries",
            "1000",
            # Not a timing test: only failures and server errors may fail it.
            "--p95-ms",
            "1e12",
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    assert lines, done.stderr[-4000:]
    assert lines[-1].startswith("{"), done.stderr[-4000:]
    return done, json.loads(lines[-1])


def test_the_scenario_runs_on_the_production_server_without_a_failure() -> None:
    server = os.environ.get("DATABASE_URL", "")
    postgres = server.startswith(("postgres://", "postgresql://"))
    done, result = run_load("postgres" if postgres else "sqlite", server if postgres else None)
    assert done.returncode == 0, (result, done.stderr[-4000:])
    assert result["server_errors"] == 0
    [load] = result["loads"]
    assert load["errors"] == {}
    assert load["overall"]["failures"] == 0
    assert load["baseline"]["failures"] == 0
    assert load["baseline"]["requests"] > 0
    assert set(load["scenarios"]) == {"apply", "browse", "search", "workspace"}
    for name, figures in load["scenarios"].items():
        assert figures["requests"] > 0, name
        assert figures["failures"] == 0, name
    # The paths that write: a signed-in researcher filed and submitted an
    # application, and demo-researcher's console queries ran in the workspace.
    endpoints = load["endpoints"]
    for endpoint in (
        "POST apply: sign in (TOTP)",
        "POST apply: submit (API)",
        "POST workspace: sign in (TOTP)",
        "POST workspace: console query",
    ):
        assert endpoints.get(endpoint, {}).get("requests", 0) >= 1, endpoint
