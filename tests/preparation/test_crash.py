"""A real ``hdh prepare run`` killed mid-way leaves nothing visible; a rerun completes."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from hdh.engines import files

ROOT = Path(__file__).resolve().parents[2]


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HDH_", "DATABASE_URL"))}
    env.update(
        HDH_HOME=str(home),
        HDH_LAKE=str(home / "lake"),
        HDH_KEY_STORE=str(home / "keys"),
        PYTHONPATH=str(ROOT),
    )
    return env


def _rows(home: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(home / "hdh.sqlite3") as connection:
        return list(connection.execute(sql).fetchall())


def test_a_killed_run_leaves_nothing_and_a_rerun_completes(tmp_path: Path):
    home = tmp_path / "home"
    env = _env(home)
    setup = subprocess.run(
        [sys.executable, str(ROOT / "tests/preparation/crash_world.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert setup.returncode == 0, setup.stderr[-3000:]
    application, engineer = setup.stdout.split()[-2:]
    command = [sys.executable, "-m", "hdh.cli", "prepare", "run", application, "--user", engineer]

    paused = subprocess.Popen(
        command,
        env={**env, "HDH_PREPARATION_PAUSE_AFTER_FIRST_TABLE": "600"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            progress = _rows(home, "SELECT progress FROM preparation_preparationrun")
            if progress and json.loads(str(progress[0][0])).get("tables_done") == 1:
                break
            assert paused.poll() is None, paused.stderr.read() if paused.stderr else ""
            time.sleep(0.5)
        else:  # pragma: no cover - the run never reached its first table
            raise AssertionError("the run did not write its first table")
    finally:
        paused.send_signal(signal.SIGKILL)
        paused.wait(timeout=60)

    datasets = list((home / "lake" / "projects").glob("*/datasets/*"))
    assert [d.name for d in datasets if d.name.startswith("v")] == []
    assert any(d.name.startswith("staging-") for d in datasets)
    assert _rows(home, "SELECT count(*) FROM preparation_projectdataset") == [(0,)]
    assert _rows(home, "SELECT status FROM preparation_preparationrun") == [("running",)]

    rerun = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "succeeded" in rerun.stdout
    assert _rows(home, "SELECT status FROM preparation_preparationrun") == [("succeeded",)]
    assert _rows(home, "SELECT count(*) FROM preparation_projectdataset") == [(1,)]
    folders = [d for d in (home / "lake" / "projects").glob("*/datasets/*")]
    assert [d.name for d in folders] == ["v0001"]
    manifest = json.loads((folders[0] / "manifest.json").read_text())
    for entry in manifest["tables"]:
        assert files.sha256_of(folders[0] / entry["path"]) == entry["sha256"]
