"""The ``hdh`` command: serve, worker, demo and the pass-through to Django."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command

HDH = [sys.executable, "-m", "hdh.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
                return response.read().decode()
        except Exception as exc:
            last = exc
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer: {last}")


@pytest.fixture
def embedded_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HDH_", "DATABASE_URL"))}
    env["HDH_HOME"] = str(tmp_path / "home")
    return env


# The commands run with ``embedded_env``: their own home and embedded SQLite database,
# whatever DATABASE_URL this test run uses, so one pass of the suite is enough.
@pytest.mark.database_independent
def test_pass_through_lists_the_platform_commands(embedded_env: dict, tmp_path: Path) -> None:
    result = subprocess.run(
        HDH,
        env=embedded_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0
    for command in ("demo", "serve", "worker", "audit", "migrate"):
        assert command in result.stdout


@pytest.mark.database_independent
def test_unknown_command_is_a_clear_error(embedded_env: dict, tmp_path: Path) -> None:
    result = subprocess.run(
        [*HDH, "frobnicate"],
        env=embedded_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "Unknown command: 'frobnicate'" in result.stderr


@pytest.mark.database_independent
def test_serve_rejects_a_bad_port(embedded_env: dict, tmp_path: Path) -> None:
    result = subprocess.run(
        [*HDH, "serve", "--port", "70000"],
        env=embedded_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "invalid port" in result.stderr


# The worker closes and reopens connections between tasks, as in production, so
# this test needs real commits rather than a wrapping transaction.
@pytest.mark.django_db(transaction=True)
def test_worker_runs_enqueued_tasks() -> None:
    from django_tasks import TaskResultStatus

    from hdh.audit.tasks import seal_pending_days

    result = seal_pending_days.enqueue()
    call_command("worker", batch=True, verbosity=0)
    result.refresh()
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == []


@pytest.fixture
def demo(embedded_env: dict, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen, Path]]:
    port = free_port()
    # What is checked here (the server, the worker, the printed logins) does not
    # depend on the size of the synthetic SNDS; the default (100,000 people) would
    # make most of this test's time.
    env = {**embedded_env, "HDH_DEMO_BENEFICIARIES": "300"}
    process = subprocess.Popen(
        [*HDH, "demo", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield f"http://127.0.0.1:{port}/", process, Path(embedded_env["HDH_HOME"])
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.mark.slow
@pytest.mark.database_independent
def test_demo_serves_the_platform_and_runs_the_worker(
    demo: tuple[str, subprocess.Popen, Path],
) -> None:
    url, process, home = demo
    page = wait_for(url, timeout=420)  # the demo loads the SNDS catalog and data first
    assert 'lang="fr"' in page
    assert "fr-header" in page  # the DSFR layout
    assert wait_for(url + "healthz").startswith('{"status": "ok"')
    # The demo's worker picks up the periodic audit seal task it enqueued.
    deadline = time.monotonic() + 60
    status = None
    while time.monotonic() < deadline:
        with sqlite3.connect(home / "hdh.sqlite3") as db:
            row = db.execute(
                "SELECT status FROM django_tasks_database_dbtaskresult "
                "WHERE task_path = 'hdh.audit.tasks.seal_pending_days' ORDER BY enqueued_at"
            ).fetchone()
        status = row[0] if row else None
        if status == "SUCCESSFUL":
            break
        time.sleep(0.5)
    assert status == "SUCCESSFUL"
    process.terminate()
    output, _ = process.communicate(timeout=30)
    assert f"hdh is running at {url}" in output
    for username in ("demo-researcher", "demo-admin"):
        assert username in output


@pytest.mark.database_independent
def test_every_periodic_task_is_a_real_task() -> None:
    from django.conf import settings
    from django.utils.module_loading import import_string
    from django_tasks.base import Task

    for path in settings.HDH_PERIODIC_TASKS:
        assert isinstance(import_string(path), Task), path
