"""Batch jobs end to end in the real sandbox: outputs, reruns, cancel, a dead worker, bad input."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
import time
from pathlib import Path

import pytest
from django.db import connection

from hdh.audit.models import AuditEvent
from hdh.core import clock
from hdh.core.errors import InvalidState, NotAllowed, ValidationFailed
from hdh.workspace import jobs, queries, services, storage
from hdh.workspace.models import SCRIPT_LIMIT, Job, JobStatus, Output, Workspace
from tests.workspace.factories import Project, researcher, run_job

pytestmark = pytest.mark.usefixtures("bwrap_required")

TABLE_AND_CHART = """
import os
import pandas as pd
import matplotlib
import matplotlib.pyplot as plt

data, out = os.environ["HDH_DATA"], os.environ["HDH_OUTPUTS"]
people = pd.read_parquet(os.path.join(data, "IR_BEN_R.parquet"))
counts = people.groupby("BEN_SEX_COD").size().rename("effectif").reset_index()
counts.to_csv(os.path.join(out, "effectifs.csv"), index=False)
fig, ax = plt.subplots()
ax.bar(counts["BEN_SEX_COD"].astype(str), counts["effectif"])
fig.savefig(os.path.join(out, "effectifs.png"))
print("personnes", len(people))
"""


def _events(workspace: Workspace, action: str) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            action=action, target_type=queries.TARGET_TYPE, target_id=str(workspace.pk)
        ).order_by("seq")
    )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_python_job_reads_the_dataset_and_writes_a_table_and_a_chart(project: Project) -> None:
    workspace = project.workspace()
    job = services.submit_job(
        workspace=workspace,
        kind="python",
        name="effectifs.py",
        script=TABLE_AND_CHART,
        by=project.member,
    )
    assert (job.number, job.status, job.dataset) == (1, JobStatus.QUEUED, project.dataset)
    assert job.limits["wall_seconds"] > 0
    script_file = storage.script_path(workspace.reference, 1, "python")
    assert script_file.read_text(encoding="utf-8") == TABLE_AND_CHART

    done = services.execute_job(job.pk)
    assert done.status == JobStatus.SUCCEEDED, (done.message, queries.job_log(done))
    assert done.exit_code == 0
    assert done.started_at is not None
    assert done.finished_at is not None
    assert "personnes" in queries.job_log(done)
    outputs = {o.name: o for o in queries.outputs_of(workspace)}
    assert set(outputs) == {"effectifs.csv", "effectifs.png"}
    for output in outputs.values():
        path = storage.stored(output.path)
        assert path.is_relative_to(storage.outputs_folder(workspace.reference, 1))
        assert output.sha256 == _sha256(path)
        assert output.size == path.stat().st_size
        assert output.job == done
    assert outputs["effectifs.csv"].media_type == "text/csv"
    assert outputs["effectifs.png"].media_type == "image/png"
    assert storage.stored(outputs["effectifs.png"].path).read_bytes().startswith(b"\x89PNG")
    assert "BEN_SEX_COD" in storage.stored(outputs["effectifs.csv"].path).read_text()

    (submitted,) = _events(workspace, "workspace.job_submitted")
    assert submitted.actor_id == str(project.member.pk)
    assert submitted.details["job"] == 1
    assert submitted.details["kind"] == "python"
    assert submitted.details["script_sha256"].replace("-", "") == job.script_sha256
    assert len(_events(workspace, "workspace.job_started")) == 1
    (finished,) = _events(workspace, "workspace.job_finished")
    assert finished.details["status"] == "succeeded"
    assert finished.details["outputs"] == 2
    log = json.dumps(list(AuditEvent.objects.values("details")))
    assert "read_parquet" not in log
    assert "effectifs.csv" not in log
    # Executing it again changes nothing: one terminal state, one set of outputs.
    assert services.execute_job(job.pk).status == JobStatus.SUCCEEDED
    assert Output.objects.filter(job=done).count() == 2
    assert len(_events(workspace, "workspace.job_finished")) == 1


def test_a_rerun_supersedes_the_outputs_of_the_same_name(project: Project) -> None:
    workspace = project.workspace()
    script = (
        "import os, random\n"
        "open(os.path.join(os.environ['HDH_OUTPUTS'], 'r.txt'), 'w').write(str(random.random()))\n"
    )
    first = run_job(workspace, project.lead, kind="python", name="r.py", script=script)
    assert first.status == JobStatus.SUCCEEDED, first.message
    (old,) = queries.outputs_of(workspace)
    second = services.rerun_job(job=first, by=project.member)
    assert (second.number, second.rerun_of, second.script) == (2, first, first.script)
    assert services.execute_job(second.pk).status == JobStatus.SUCCEEDED
    (current,) = queries.outputs_of(workspace)
    assert current.job == second
    old.refresh_from_db()
    assert old.superseded_at is not None
    assert old.sha256 != current.sha256
    # Each version's file stays where its job wrote it, for the airlock.
    assert storage.stored(old.path).is_file()
    assert storage.stored(current.path).is_file()
    assert queries.outputs_of(workspace, include_superseded=True).count() == 2
    (submitted,) = _events(workspace, "workspace.job_submitted")[1:]
    assert submitted.details["rerun_of"] == 1


def test_a_sql_job_writes_its_results(project: Project) -> None:
    workspace = project.workspace()
    script = (
        "-- output: par_sexe.csv\n"
        "SELECT BEN_SEX_COD, count(*) AS n FROM IR_BEN_R GROUP BY 1 ORDER BY 1;\n"
    )
    done = run_job(workspace, project.member, kind="sql", name="par_sexe.sql", script=script)
    assert done.status == JobStatus.SUCCEEDED, (done.message, queries.job_log(done))
    (output,) = queries.outputs_of(workspace)
    assert output.name == "par_sexe.csv"
    assert storage.stored(output.path).read_text().startswith("BEN_SEX_COD,n")


def test_a_failing_job_records_no_output(project: Project) -> None:
    workspace = project.workspace()
    script = (
        "import os\n"
        "open(os.path.join(os.environ['HDH_OUTPUTS'], 'partiel.csv'), 'w').write('a\\n1\\n')\n"
        "raise RuntimeError('boum')\n"
    )
    done = run_job(workspace, project.lead, kind="python", name="echec.py", script=script)
    assert done.status == JobStatus.FAILED
    assert done.exit_code not in (None, 0)
    assert "boum" in queries.job_log(done)
    assert not Output.objects.exists()
    (finished,) = _events(workspace, "workspace.job_finished")
    assert finished.outcome == "failure"
    assert "boum" not in json.dumps(finished.details)


def test_a_queued_job_is_cancelled_at_once_and_never_runs(project: Project) -> None:
    workspace = project.workspace()
    job = services.submit_job(
        workspace=workspace, kind="sql", name="a.sql", script="SELECT 1;", by=project.lead
    )
    with pytest.raises(NotAllowed):
        services.cancel_job(job=job, by=researcher())
    cancelled = services.cancel_job(job=job, by=project.member)
    assert cancelled.status == JobStatus.CANCELLED
    assert services.execute_job(job.pk).status == JobStatus.CANCELLED
    assert not _events(workspace, "workspace.job_started")
    assert len(_events(workspace, "workspace.job_cancelled")) == 1
    with pytest.raises(InvalidState):
        services.cancel_job(job=cancelled, by=project.member)
    # A finished job can be run again, by a member only.
    with pytest.raises(NotAllowed):
        services.rerun_job(job=cancelled, by=researcher())
    assert services.rerun_job(job=cancelled, by=project.member).number == 2


def test_a_running_job_cannot_be_rerun_before_it_ends(project: Project) -> None:
    workspace = project.workspace()
    job = services.submit_job(
        workspace=workspace, kind="sql", name="a.sql", script="SELECT 1;", by=project.lead
    )
    with pytest.raises(InvalidState):
        services.rerun_job(job=job, by=project.lead)


@pytest.mark.django_db(transaction=True)
def test_a_running_job_is_stopped_when_cancelled(project: Project) -> None:
    workspace = project.workspace()
    job = services.submit_job(
        workspace=workspace,
        kind="python",
        name="long.py",
        script="import time\nprint('start', flush=True)\ntime.sleep(600)\n",
        by=project.lead,
    )
    finished: list[Job] = []

    def worker() -> None:
        try:
            finished.append(services.execute_job(job.pk))
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        deadline = time.monotonic() + 120
        while Job.objects.get(pk=job.pk).status != JobStatus.RUNNING:
            assert time.monotonic() < deadline, "the job never started"
            time.sleep(0.2)
        requested = services.cancel_job(job=Job.objects.get(pk=job.pk), by=project.member)
        assert requested.cancel_requested
        assert requested.status == JobStatus.RUNNING
    finally:
        thread.join(timeout=180)
    assert not thread.is_alive()
    (done,) = finished
    assert done.status == JobStatus.CANCELLED
    assert len(_events(workspace, "workspace.job_cancel_requested")) == 1
    (end,) = _events(workspace, "workspace.job_finished")
    assert end.details["status"] == "cancelled"


def test_a_job_whose_worker_died_is_marked_interrupted_once(project: Project) -> None:
    workspace = project.workspace()
    job = services.submit_job(
        workspace=workspace, kind="sql", name="a.sql", script="SELECT 1;", by=project.lead
    )
    claimed = jobs._claim(job.pk)  # the worker took it, then its process was killed
    assert claimed is not None
    assert claimed.status == JobStatus.RUNNING
    # A live worker's job is left alone.
    assert services.recover_interrupted_jobs() == 0
    assert services.execute_job(job.pk).status == JobStatus.RUNNING
    later = clock.now() + jobs.STALE_AFTER + dt.timedelta(seconds=1)
    with clock.frozen(later):
        assert services.recover_interrupted_jobs() == 1
        assert services.recover_interrupted_jobs() == 0
        assert services.execute_job(job.pk).status == JobStatus.FAILED
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.message.startswith("Interrompu")
    (end,) = _events(workspace, "workspace.job_finished")
    assert end.details["interrupted"] is True


def test_the_worker_restarting_on_a_dead_job_marks_it_interrupted(project: Project) -> None:
    workspace = project.workspace()
    job = services.submit_job(
        workspace=workspace, kind="sql", name="a.sql", script="SELECT 1;", by=project.lead
    )
    assert jobs._claim(job.pk) is not None
    with clock.frozen(clock.now() + jobs.STALE_AFTER * 2):
        done = services.execute_job(job.pk)
    assert done.status == JobStatus.FAILED
    assert done.message.startswith("Interrompu")
    assert len(_events(workspace, "workspace.job_finished")) == 1


HOSTILE_NAMES = [
    ("../x.py", "python"),
    ("/etc/x.py", "python"),
    ("a/b.py", "python"),
    ("x.sql", "python"),
    ("x.py", "sql"),
    ("x.py ", "python"),
    ("x.py\n", "python"),
    (".cache.py", "python"),
    ("x\x00.py", "python"),
    ("é.py", "python"),
    ("x" * 200 + ".py", "python"),
    ("", "python"),
    (None, "python"),
    ("x.py", "bash"),
    ("x.py", ""),
    ("x.py", None),
]
HOSTILE_SCRIPTS = [
    "print(1)\x00",
    "x" * (10 * 1024 * 1024),
    "é" * (SCRIPT_LIMIT // 2 + 1),  # under the limit in characters, over it in bytes
    b"print('\xff\xfe')",
    b"\x00" * 10,
    "",
    "   \n\t",
    "print('\ud800')",
    None,
    42,
]


def test_hostile_names_and_scripts_are_refused_before_anything_is_written(
    project: Project,
) -> None:
    workspace = project.workspace()
    for name, kind in HOSTILE_NAMES:
        with pytest.raises(ValidationFailed):
            services.submit_job(
                workspace=workspace, kind=kind, name=name, script="print(1)\n", by=project.lead
            )  # type: ignore[arg-type]
    for script in HOSTILE_SCRIPTS:
        with pytest.raises(ValidationFailed) as caught:
            services.submit_job(
                workspace=workspace, kind="python", name="a.py", script=script, by=project.lead
            )
        assert caught.value.problems == ["script"]
    assert not Job.objects.exists()
    assert not (storage.workspace_folder(workspace.reference) / "jobs").exists()
    # Uploaded bytes in UTF-8 are fine.
    job = services.submit_job(
        workspace=workspace,
        kind="python",
        name="A-1_b.PY",
        script=b"print('\xc3\xa9')\n",
        by=project.lead,
    )
    assert job.script == "print('é')\n"


def test_python_jobs_are_refused_where_no_sandbox_can_be_made(
    project: Project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    workspace = project.workspace()
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap to be found
    with pytest.raises(InvalidState) as caught:
        services.submit_job(
            workspace=workspace, kind="python", name="a.py", script="print(1)\n", by=project.lead
        )
    assert "bac à sable" in str(caught.value)
    (refused,) = _events(workspace, "workspace.job_refused")
    assert refused.details == {"reason": "no_sandbox", "kind": "python"}
    # SQL jobs rely on the locked-down engine and are still taken.
    job = services.submit_job(
        workspace=workspace, kind="sql", name="a.sql", script="SELECT 1;", by=project.lead
    )
    assert job.status == JobStatus.QUEUED


def test_a_job_is_not_recorded_when_its_audit_event_fails(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = project.workspace()
    original = jobs.audit.record

    def broken(**kwargs):  # type: ignore[no-untyped-def]
        if kwargs["action"] == "workspace.job_submitted":
            raise RuntimeError("audit log unavailable")
        return original(**kwargs)

    monkeypatch.setattr(jobs.audit, "record", broken)
    with pytest.raises(RuntimeError):
        services.submit_job(
            workspace=workspace, kind="sql", name="a.sql", script="SELECT 1;", by=project.lead
        )
    assert not Job.objects.exists()


def test_jobs_are_written_through_services_only(project: Project) -> None:
    from hdh.core.governance import DirectWriteRefused

    workspace = project.workspace()
    job = services.submit_job(
        workspace=workspace, kind="sql", name="a.sql", script="SELECT 1;", by=project.lead
    )
    job.status = JobStatus.SUCCEEDED
    with pytest.raises(DirectWriteRefused):
        job.save()
    with pytest.raises(DirectWriteRefused):
        Job.objects.filter(pk=job.pk).update(cancel_requested=True)


@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_a_submitted_job(project: Project) -> None:
    from django.core.management import call_command
    from django_tasks_db.models import DBTaskResult

    workspace = project.workspace()
    job = services.submit_job(
        workspace=workspace,
        kind="sql",
        name="n.sql",
        script="SELECT count(*) AS n FROM IR_BEN_R;",
        by=project.member,
    )
    (queued,) = DBTaskResult.objects.filter(task_path="hdh.workspace.tasks.run_job")
    assert queued.args_kwargs["args"] == [job.pk]
    call_command("worker", batch=True, no_periodic=True, verbosity=0)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.message
    assert [o.name for o in queries.outputs_of(workspace)] == ["result-1.csv"]
