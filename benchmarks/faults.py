# The fault script starts and kills the platform's own commands and PostgreSQL's
# tools; the random delays are a seeded fault schedule, not security.
# ruff: noqa: S311, S603
"""Fault injection: kill the worker at random points; restart PostgreSQL mid-workflow.

**Kills.** A throw-away platform home (SQLite, or a fresh database on the
PostgreSQL server with ``--database postgres``) with a prepared project and an
open workspace. Each cycle queues work (a preparation run of the project's plan,
SQL jobs, and Python jobs where the bubblewrap sandbox is usable), starts a real
``hdh worker``, SIGKILLs it after a random (seeded) delay, then runs the sweeps
the worker runs periodically (``hdh prepare sweep``, ``hdh workspace
lifecycle``) with their clock moved past the takeover interval: the worker is
known dead, so this is the interval passing, not a shortcut. At the end a worker
runs everything left to the end, and the script checks, for every run and job:
exactly one terminal state and one terminal audit event, no duplicate dataset
or output, no orphan file (staging folders, partial parquet, work folders,
leftover cohort files), every published dataset's files match its manifest, and
``hdh audit verify`` passes.

**PostgreSQL restarts.** A private throw-away cluster (``initdb`` as the
``postgres`` user in a temporary folder, on a free port; never the machine's
shared cluster). A client process drives guichet applications and airlock
release requests through their workflows in a loop while the cluster is
restarted (``pg_ctl restart``, alternately ``-m fast`` and ``-m immediate``).
Afterwards every application and request is in a valid state, each one's state,
history rows and transition audit events agree (no half-applied transition),
and ``hdh audit verify`` passes. The cluster is stopped and deleted.

Usage:
    python benchmarks/faults.py [--kills 50] [--pg-restarts 5] [--seed 1]
                                [--database sqlite|postgres] [--no-pg-restart]

Prints Markdown table rows for docs/benchmarks.md; exits 1 when an invariant fails.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as dt
import glob
import json
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SQL_JOB = (
    "-- output: actes.parquet\n"
    "SELECT BEN_NIR_PSA, count(*) AS n FROM ER_PRS_F GROUP BY 1 ORDER BY 1;\n"
    "-- output: par_sexe.csv\n"
    "SELECT BEN_SEX_COD, count(*) AS n FROM IR_BEN_R GROUP BY 1 ORDER BY 1;\n"
)
JOBS_IN_FLIGHT = 3
PYTHON_JOB = (
    "import os, time\n"
    "time.sleep(0.5)\n"
    "with open(os.path.join(os.environ['HDH_OUTPUTS'], 'compte.txt'), 'w') as f:\n"
    "    f.write(str(len(os.listdir(os.environ['HDH_DATA']))))\n"
)


# --- shared ---------------------------------------------------------------------
def platform_env(home: Path, database_url: str | None) -> dict[str, str]:
    """The environment of the platform's processes: this home, this database only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HDH_", "DATABASE_URL"))}
    env.update(HDH_HOME=str(home), PYTHONPATH=str(ROOT), DJANGO_SETTINGS_MODULE="hdh.settings")
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def setup_django(home: Path, database_url: str | None) -> None:
    os.environ.update(platform_env(home, database_url))
    if not database_url:
        os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def audit_verify(env: dict[str, str]) -> tuple[bool, str]:
    done = subprocess.run(
        [sys.executable, "-m", "hdh.cli", "audit", "verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return done.returncode == 0, (done.stdout + done.stderr).strip().splitlines()[-1:]


# --- kills ----------------------------------------------------------------------
class KillWorld:
    """The project, its plan and workspace, and the work queued on them."""

    def __init__(self, home: Path, *, python_jobs: bool) -> None:
        from django.conf import settings
        from tests.workspace.factories import create_project

        from hdh.keys.store import default_store
        from hdh.preparation.models import ExtractionPlan, PlanStatus, PreparationRun
        from hdh.synth import snds
        from hdh.synth.schema import snds_shapes_from_files

        result = snds.generate(
            spec=snds.SndsSpec(beneficiaries=200, seed=3, start=dt.date(2022, 1, 1)),
            out=home / "synth",
            identity_out=home / "synth-id",
            shapes=snds_shapes_from_files(snds.TABLES),
            level1_key=default_store().level1_key()[1],
        )
        self.project = create_project(home / "work", result)
        self.workspace = self.project.workspace()
        self.plan = ExtractionPlan.objects.get(
            permit=self.project.permit, status=PlanStatus.APPROVED
        )
        self.engineer = self.project.team.engineer
        self.python_jobs = python_jobs
        self.submitted = 0
        # The project's setup prepared its first dataset: that run counts too.
        self.runs_started = PreparationRun.objects.count()
        self.home = Path(settings.HDH_HOME)

    def top_up(self) -> None:
        """A preparation run when none is under way, and jobs up to JOBS_IN_FLIGHT
        (a growing backlog of jobs would keep the preparation runs waiting)."""
        from hdh.preparation import services, tasks
        from hdh.preparation.models import TERMINAL, PreparationRun
        from hdh.workspace import jobs

        active = PreparationRun.objects.filter(plan__permit=self.project.permit).exclude(
            status__in=TERMINAL
        )
        if not active.exists():
            run = services.start_run(plan=self.plan, by=self.engineer)
            tasks.run_preparation.enqueue(run.pk)
            self.runs_started += 1
        from hdh.workspace.models import Job, JobStatus

        waiting = Job.objects.filter(status__in=(JobStatus.QUEUED, JobStatus.RUNNING)).count()
        for _ in range(max(0, JOBS_IN_FLIGHT - waiting)):
            self.submitted += 1
            python = self.python_jobs and self.submitted % 2 == 0
            jobs.submit_job(
                workspace=self.workspace,
                kind="python" if python else "sql",
                name=f"j{self.submitted}.{'py' if python else 'sql'}",
                script=PYTHON_JOB if python else SQL_JOB,
                by=self.project.lead,
            )


def sweep_dead_worker() -> dict[str, int]:
    """The periodic sweeps, their clock past every takeover interval (the worker is dead)."""
    from hdh.core import clock
    from hdh.preparation import linkages, services
    from hdh.workspace import jobs

    later = clock.now() + max(services.STALE_AFTER, linkages.STALE_AFTER, jobs.STALE_AFTER)
    later += dt.timedelta(seconds=1)
    return {
        "runs": services.recover_interrupted_runs(now=later),
        "linkages": linkages.recover_interrupted_linkages(now=later),
        "jobs": jobs.recover_interrupted_jobs(now=later),
    }


def running_now() -> str:
    from hdh.preparation.models import PreparationRun
    from hdh.workspace.models import Job

    if PreparationRun.objects.filter(status="running").exists():
        return "preparation run"
    job = Job.objects.filter(status="running").first()
    if job is not None:
        return f"{job.kind} job"
    return "between tasks"


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "hdh.cli", "worker", "--interval", "0.2"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def all_settled() -> bool:
    from hdh.preparation.models import TERMINAL, PreparationRun
    from hdh.workspace.models import Job, JobStatus

    open_jobs = Job.objects.filter(status__in=(JobStatus.QUEUED, JobStatus.RUNNING))
    return not (PreparationRun.objects.exclude(status__in=TERMINAL).exists() or open_jobs.exists())


def check_kill_invariants(home: Path) -> tuple[list[str], dict[str, Any]]:
    """Every problem found (empty when the platform held), and the outcome counts."""
    from hdh.audit.models import AuditEvent
    from hdh.core import lake
    from hdh.preparation import services
    from hdh.preparation.models import TERMINAL, PreparationRun, ProjectDataset
    from hdh.workspace import storage
    from hdh.workspace.models import Job, JobStatus, Output

    problems: list[str] = []
    runs = list(PreparationRun.objects.order_by("pk"))
    ended: collections.Counter[int] = collections.Counter()
    for event in AuditEvent.objects.filter(
        action__in=(
            "preparation.dataset_published",
            "preparation.run_failed",
            "preparation.run_cancelled",
        )
    ):
        if event.action == "preparation.dataset_published":
            if event.details.get("run") is not None:
                ended[int(event.details["run"])] += 1
        else:
            ended[int(event.target_id)] += 1
    for run in runs:
        if run.status not in TERMINAL:
            problems.append(f"run {run.pk} is still {run.status}")
        if ended[run.pk] != 1:
            problems.append(f"run {run.pk} has {ended[run.pk]} terminal audit events")
        published = ProjectDataset.objects.filter(run=run).count()
        if published != (1 if run.status == "succeeded" else 0):
            problems.append(f"run {run.pk} ({run.status}) has {published} dataset(s)")
    datasets = list(ProjectDataset.objects.all())
    recorded = {str(lake.root() / d.path) for d in datasets}
    if len(recorded) != len(datasets):
        problems.append("two datasets share a folder")
    on_disk = {str(p) for p in lake.root().glob("projects/*/datasets/*")}
    for extra in sorted(on_disk - recorded):
        problems.append(f"orphan dataset folder {Path(extra).name}")
    for missing in sorted(recorded - on_disk):
        problems.append(f"dataset folder missing {Path(missing).name}")
    for dataset in datasets:
        for problem in services.verify_dataset(dataset):
            problems.append(f"dataset v{dataset.version}: {problem}")
    tmp = home / "tmp"
    if tmp.is_dir():
        for left in tmp.iterdir():
            if left.name.startswith(("preparation-run", "linkage-run")):
                problems.append(f"work folder left: {left.name}")
    cohorts = home / "linkage"
    if cohorts.is_dir() and any(p.is_file() for p in cohorts.rglob("*")):
        problems.append("cohort file left")

    finished: collections.Counter[tuple[str, int]] = collections.Counter()
    for event in AuditEvent.objects.filter(action="workspace.job_finished"):
        finished[(event.target_id, int(event.details["job"]))] += 1
    jobs = list(Job.objects.select_related("workspace").order_by("pk"))
    for job in jobs:
        if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
            problems.append(f"job {job.number} is still {job.status}")
        count = finished[(str(job.workspace_id), job.number)]
        if count != 1:
            problems.append(f"job {job.number} has {count} job_finished events")
        outputs = list(Output.objects.filter(job=job))
        names = [o.name for o in outputs]
        if len(names) != len(set(names)):
            problems.append(f"job {job.number} has duplicate outputs")
        if job.status != JobStatus.SUCCEEDED and outputs:
            problems.append(f"job {job.number} ({job.status}) has outputs")
        for output in outputs:
            path = storage.stored(output.path)
            from hdh.engines import files

            if not path.is_file() or files.sha256_of(path) != output.sha256:
                problems.append(f"job {job.number}: output {output.name} differs")
    for staged in storage.root().rglob(".staging-*"):
        problems.append(f"staging left in {staged.parent.parent.name}")
    outcomes = {
        "runs": collections.Counter(r.status for r in runs),
        "jobs": collections.Counter(f"{j.kind} {j.status}" for j in jobs),
        "datasets": len(datasets),
        "outputs": Output.objects.count(),
    }
    return problems, outcomes


def run_kills(args: argparse.Namespace) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import _database  # a sibling module of this script

    home = Path(tempfile.mkdtemp(prefix="hdh-faults-"))
    pg_name = _database.configure(args.database, home)
    started = time.monotonic()
    try:
        setup_django(home, os.environ.get("DATABASE_URL"))
        from django.db import connections

        from hdh.workspace import sandbox

        python_jobs = sandbox.sandbox_status()[0]
        world = KillWorld(home, python_jobs=python_jobs)
        env = platform_env(home, os.environ.get("DATABASE_URL"))
        log = home / "worker.log"
        rng = random.Random(args.seed)
        hits: collections.Counter[str] = collections.Counter()
        swept: collections.Counter[str] = collections.Counter()
        setup_seconds = time.monotonic() - started
        for _ in range(args.kills):
            world.top_up()
            connections.close_all()
            worker = start_worker(env, log)
            time.sleep(rng.uniform(args.min_delay, args.max_delay))
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=60)
            hits[running_now()] += 1
            for name, count in sweep_dead_worker().items():
                swept[name] += count
        # Let everything left finish, with a worker nobody kills.
        settle_start = time.monotonic()
        worker = start_worker(env, log)
        try:
            deadline = settle_start + args.settle_timeout
            while not all_settled() and time.monotonic() < deadline:
                connections.close_all()
                time.sleep(0.5)
            settle_seconds = time.monotonic() - settle_start
        finally:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=60)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        problems, outcomes = check_kill_invariants(home)
        verified, verify_line = audit_verify(env)
        if not verified:
            problems.append(f"audit verify failed: {verify_line}")
        return {
            "database": args.database,
            "kills": args.kills,
            "seed": args.seed,
            "python_jobs": python_jobs,
            "killed_during": dict(hits),
            "queued": {"runs": world.runs_started, "jobs": world.submitted},
            "swept": dict(swept),
            "outcomes": {
                k: dict(v) if isinstance(v, collections.Counter) else v for k, v in outcomes.items()
            },
            "setup_seconds": round(setup_seconds, 1),
            "settle_seconds": round(settle_seconds, 1),
            "total_seconds": round(time.monotonic() - started, 1),
            "audit": verify_line,
            "problems": problems,
        }
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        _database.drop(pg_name)
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)


# --- PostgreSQL restarts ----------------------------------------------------------
def pg_binary(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PrivateCluster:
    """A throw-away PostgreSQL cluster owned by the ``postgres`` user, on its own port."""

    def __init__(self) -> None:
        initdb, pg_ctl = pg_binary("initdb"), pg_binary("pg_ctl")
        if initdb is None or pg_ctl is None:
            raise RuntimeError("initdb is not installed")
        self.pg_ctl = pg_ctl
        self.folder = Path(tempfile.mkdtemp(prefix="hdh-faults-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        shutil.chown(self.folder, "postgres", "postgres")
        self._as_postgres(
            [initdb, "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync"]
        )

    def _as_postgres(self, command: list[str]) -> None:
        prefix = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]
        subprocess.run(
            [*prefix, *command], check=True, capture_output=True, timeout=300, cwd=self.folder
        )

    def _ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        self._as_postgres(
            [
                self.pg_ctl,
                "-D",
                str(self.data),
                "-l",
                str(self.folder / "log"),
                "-w",
                "-o",
                options,
                *args,
            ]
        )

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        self._ctl("start")

    def restart(self, mode: str) -> None:
        self._ctl("restart", "-m", mode)

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            self._ctl("stop", "-m", "immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


def run_pg_restarts(args: argparse.Namespace) -> dict[str, Any]:
    cluster = PrivateCluster()
    home = Path(tempfile.mkdtemp(prefix="hdh-faults-home-"))
    stop = home / "stop"
    rng = random.Random(args.seed)
    started = time.monotonic()
    try:
        cluster.start()
        client = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--part",
                "pg-client",
                "--home",
                str(home),
                "--database-url",
                cluster.url,
                "--seed",
                str(args.seed),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert client.stdout is not None
        line = client.stdout.readline()
        if line.strip() != "READY":
            raise RuntimeError(
                f"the client did not start: {line}"
                + (client.stderr.read()[-2000:] if client.stderr else "")
            )
        modes = []
        for number in range(args.pg_restarts):
            time.sleep(rng.uniform(0.5, 2.0))
            mode = "fast" if number % 2 == 0 else "immediate"
            cluster.restart(mode)
            modes.append(mode)
        time.sleep(2.0)
        stop.touch()
        out, err = client.communicate(timeout=600)
        if client.returncode != 0:
            raise RuntimeError(f"the client failed: {err[-3000:]}")
        result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
        result.update(restarts=len(modes), modes=dict(collections.Counter(modes)))
        result["total_seconds"] = round(time.monotonic() - started, 1)
        return result
    finally:
        cluster.destroy()
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)


def pg_client(args: argparse.Namespace) -> None:
    """Drive workflows in a loop until the stop file appears; then check and print JSON."""
    from django.db import DatabaseError, InterfaceError, OperationalError

    home = Path(args.home)
    setup_django(home, args.database_url)
    from django.db import connections
    from tests.airlock.conftest import open_project
    from tests.factories.access import Staff, path_to

    from hdh.access.states import State
    from hdh.core.errors import HdhError

    team = Staff()
    route = path_to(State.CONTRACT_SIGNED)
    world: dict[str, Any] = {"airlock": open_project(), "application": None, "request": None}
    print("READY", flush=True)
    counts: collections.Counter[str] = collections.Counter()
    stop = home / "stop"
    clean = 0
    # After the stop file, a few clean rounds so the last restart's effects are met.
    while not stop.exists() or clean < 3:
        try:
            _advance_application(world, team, route, counts)
            _advance_release(world, counts)
            clean = clean + 1 if stop.exists() else 0
        except (OperationalError, InterfaceError, DatabaseError):
            counts["database errors"] += 1
            clean = 0
            connections.close_all()
            time.sleep(0.2)
        except HdhError:
            # A step whose first half committed before the restart: abandon the case
            # (it is still checked) and start another.
            counts["abandoned after a restart"] += 1
            world["application"] = None
            world["request"] = None
            world["airlock"] = None  # a new project, opened inside the next round
    print(json.dumps({**dict(counts), **check_workflows(home)}), flush=True)


def _advance_application(
    world: dict[str, Any], team: Any, route: list[Any], counts: collections.Counter[str]
) -> None:
    from tests.factories.access import _step, create_draft

    from hdh.access.states import State

    application = world["application"]
    if application is None or application.state == State.CONTRACT_SIGNED:
        application = world["application"] = create_draft(by=None)
        counts["applications"] += 1
    application.refresh_from_db()
    if application.state == State.CONTRACT_SIGNED:
        return
    target = route[route.index(application.state) + 1] if application.state in route else route[0]
    _step(application, target, team)
    counts["application steps"] += 1


def _advance_release(world: dict[str, Any], counts: collections.Counter[str]) -> None:
    from tests.airlock.conftest import SAFE_TABLE

    from hdh.airlock import services as releases
    from hdh.airlock.models import Review
    from hdh.airlock.states import State

    if world["airlock"] is None:
        from tests.airlock.conftest import open_project

        world["airlock"] = open_project()
    airlock, request = world["airlock"], world["request"]
    if request is not None:
        request.refresh_from_db()
    if request is None or request.state == State.RELEASED:
        world["request"] = airlock.request_with(("table.csv", SAFE_TABLE))
        counts["release requests"] += 1
        return
    if request.state == State.PENDING:
        releases.submit(by=airlock.lead, request=request)
    elif request.state in (State.SUBMITTED, State.PARTIALLY_REVIEWED):
        done = set(Review.objects.filter(request=request).values_list("checker_id", flat=True))
        checker = next(c for c in airlock.checkers if c.pk not in done)
        airlock.review(request, checker)
    elif request.state == State.REVIEWED:
        releases.approve(by=airlock.checkers[0], request=request)
    elif request.state == State.APPROVED:
        releases.release(request=request)
    counts["release steps"] += 1


def check_workflows(home: Path) -> dict[str, Any]:
    """State, history rows and transition audit events agree for every application and request."""
    from hdh.access import workflow as guichet
    from hdh.access.models import Application, StageEntry
    from hdh.airlock import workflow as airlock
    from hdh.airlock.models import ReleaseRequest
    from hdh.audit.models import AuditEvent

    problems: list[str] = []
    guichet_actions = {t.audit_action for t in guichet.TRANSITIONS.values()}
    for application in Application.objects.all():
        history = [
            (e.from_state, e.to_state)
            for e in StageEntry.objects.filter(application=application).order_by("at", "pk")
        ]
        events = [
            (e.details.get("from"), e.details.get("to"))
            for e in AuditEvent.objects.filter(
                action__in=guichet_actions,
                target_type="access.application",
                target_id=str(application.pk),
            ).order_by("seq")
        ]
        state = history[-1][1] if history else "draft"
        if application.state != state or history != events:
            problems.append(f"application {application.pk}: state, history and audit differ")
        for source, target in history:
            if (source, target) not in guichet.TRANSITIONS:
                problems.append(f"application {application.pk}: invalid move {source}->{target}")
    airlock_actions = {t.audit_action for t in airlock.TRANSITIONS.values()}
    for request in ReleaseRequest.objects.all():
        history = [(e.from_state, e.to_state) for e in request.history.order_by("at", "pk")]
        events = [
            (e.details.get("from"), e.details.get("to"))
            for e in AuditEvent.objects.filter(
                action__in=airlock_actions,
                target_type="airlock.releaserequest",
                target_id=str(request.pk),
            ).order_by("seq")
        ]
        if (history and request.state != history[-1][1]) or history != events:
            problems.append(f"release request {request.pk}: state, history and audit differ")
    verified, line = audit_verify(platform_env(home, os.environ.get("DATABASE_URL")))
    if not verified:
        problems.append(f"audit verify failed: {line}")
    return {
        "applications_checked": Application.objects.count(),
        "requests_checked": ReleaseRequest.objects.count(),
        "audit": line,
        "problems": problems,
    }


# --- report ------------------------------------------------------------------------
def print_report(kills: dict[str, Any] | None, restarts: dict[str, Any] | None) -> None:
    cores = os.cpu_count()
    print(f"\nMachine: {platform.machine()}, {cores} cores, Python {platform.python_version()}")
    print("\n| fault | figure | value |\n|---|---|---|")
    if kills is not None:
        db = kills["database"]
        rows = [
            ("worker SIGKILLs", kills["kills"]),
            (
                "killed during",
                ", ".join(f"{k}: {v}" for k, v in sorted(kills["killed_during"].items())),
            ),
            ("settled by the sweep", ", ".join(f"{k}: {v}" for k, v in kills["swept"].items())),
            (
                "preparation runs",
                ", ".join(f"{k}: {v}" for k, v in kills["outcomes"]["runs"].items()),
            ),
            ("jobs", ", ".join(f"{k}: {v}" for k, v in sorted(kills["outcomes"]["jobs"].items()))),
            (
                "datasets / outputs",
                f"{kills['outcomes']['datasets']} / {kills['outcomes']['outputs']}",
            ),
            ("time to settle after the last kill", f"{kills['settle_seconds']} s"),
            ("total (setup)", f"{kills['total_seconds']} s ({kills['setup_seconds']} s)"),
            ("invariant violations", len(kills["problems"])),
        ]
        for name, value in rows:
            print(f"| kill worker ({db}) | {name} | {value} |")
    if restarts is not None:
        rows = [
            ("restarts", ", ".join(f"{k}: {v}" for k, v in restarts["modes"].items())),
            (
                "applications / steps",
                f"{restarts.get('applications', 0)} / {restarts.get('application steps', 0)}",
            ),
            (
                "release requests / steps",
                f"{restarts.get('release requests', 0)} / {restarts.get('release steps', 0)}",
            ),
            ("database errors seen by the client", restarts.get("database errors", 0)),
            ("total", f"{restarts['total_seconds']} s"),
            ("invariant violations", len(restarts["problems"])),
        ]
        for name, value in rows:
            print(f"| restart PostgreSQL | {name} | {value} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--pg-restarts", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--min-delay", type=float, default=1.5)
    parser.add_argument("--max-delay", type=float, default=8.0)
    parser.add_argument("--settle-timeout", type=float, default=600.0)
    parser.add_argument("--no-pg-restart", action="store_true")
    parser.add_argument("--keep", action="store_true", help="Keep the homes (to look at).")
    parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")
    parser.add_argument(
        "--part", choices=("all", "kills", "pg-restart", "pg-client"), default="all"
    )
    parser.add_argument("--home", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.part == "pg-client":
        pg_client(args)
        return 0
    kills = restarts = None
    if args.part in ("all", "kills"):
        # Its own process: Django is set up once per process, on one database.
        kills = _in_child(args, "kills")
    if args.part in ("all", "pg-restart") and not args.no_pg_restart:
        restarts = run_pg_restarts(args)
    if args.json:
        print(json.dumps({"kills": kills, "pg_restarts": restarts}))
    else:
        print_report(kills, restarts)
    problems = [*(kills or {}).get("problems", []), *(restarts or {}).get("problems", [])]
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    return 1 if problems else 0


def _in_child(args: argparse.Namespace, part: str) -> dict[str, Any]:
    if os.environ.get("HDH_FAULTS_CHILD") == part:
        return run_kills(args)
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        *sys.argv[1:],
        "--part",
        part,
        "--json",
    ]
    done = subprocess.run(
        command,
        env={**os.environ, "HDH_FAULTS_CHILD": part},
        capture_output=True,
        text=True,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    if not lines or not lines[-1].startswith("{"):
        raise RuntimeError(f"the {part} part failed: {done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(lines[-1])["kills"]
    return result


if __name__ == "__main__":
    sys.exit(main())
