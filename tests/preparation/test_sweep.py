"""The periodic sweep settles the preparation and linkage runs a dead worker left running:
failed once, nothing staged left, the cohort file deleted and its deletion audited once."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from pathlib import Path

from django.conf import settings as django_settings
from django.core.management import call_command

from hdh.audit.models import AuditEvent
from hdh.core import clock, lake
from hdh.preparation import linkages, services, tasks
from hdh.preparation.models import LinkageRun, PreparationRun, ProjectDataset
from tests.preparation.helpers import approved_plan
from tests.preparation.linkage_world import leftovers, request


def events(action: str, target: object) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, target_id=str(target.pk)))  # type: ignore[attr-defined]


def later(after: dt.timedelta) -> dt.datetime:
    return clock.now() + after + dt.timedelta(seconds=1)


def killed_preparation(world) -> PreparationRun:  # type: ignore[no-untyped-def]
    """A run claimed by a worker that died after staging a table and, in the worst
    case, after renaming its folder into place but before recording it."""
    run = services.start_run(plan=approved_plan(world.permit, world.engineer), by=world.engineer)
    claimed = services.claim(run.pk)
    assert claimed is not None
    staging = services.staging_path(claimed)
    staging.mkdir(parents=True)
    (staging / "ER_PRS_F.parquet").write_bytes(b"PAR1 partial")
    workdir = Path(django_settings.HDH_HOME) / "tmp" / f"preparation-run{run.pk}"
    workdir.mkdir(parents=True)
    renamed = services.dataset_path(claimed.project, 1)
    renamed.mkdir(parents=True)
    (renamed / services.MANIFEST).write_text(json.dumps({"run": run.pk}), encoding="utf-8")
    return claimed


def test_a_dead_workers_preparation_run_fails_once_and_leaves_nothing(world, settings, tmp_path):
    settings.HDH_HOME = tmp_path / "home"
    run = killed_preparation(world)
    datasets = services.staging_path(run).parent

    assert services.recover_interrupted_runs() == 0  # still beating: left to its worker
    assert PreparationRun.objects.get(pk=run.pk).status == "running"

    assert services.recover_interrupted_runs(now=later(services.STALE_AFTER)) == 1
    run.refresh_from_db()
    assert run.status == "failed"
    assert run.error.startswith("Interrompue")
    assert run.finished_at is not None
    assert list(datasets.iterdir()) == []
    assert not (Path(settings.HDH_HOME) / "tmp" / f"preparation-run{run.pk}").exists()
    failed = events("preparation.run_failed", run)
    assert [(e.outcome, e.details.get("interrupted")) for e in failed] == [("failure", True)]

    # Exactly once: a second sweep finds nothing.
    assert services.recover_interrupted_runs(now=later(2 * services.STALE_AFTER)) == 0
    assert len(events("preparation.run_failed", run)) == 1

    # A new run of the same plan completes and is the only dataset.
    rerun = services.start_run(plan=run.plan, by=world.engineer)
    done = services.execute_run(rerun.pk)
    assert done is not None
    assert done.status == "succeeded", done.error
    dataset = ProjectDataset.objects.get(permit=world.permit)
    assert services.verify_dataset(dataset) == []
    assert sorted(p.name for p in datasets.iterdir()) == ["v0001"]


def test_the_sweep_keeps_recorded_versions_and_other_runs_folders(world, settings, tmp_path):
    settings.HDH_HOME = tmp_path / "home"
    run = killed_preparation(world)
    # A folder of another run (a live publication, say) is not the dead run's to remove.
    other = services.dataset_path(run.project, 2)
    other.mkdir()
    (other / services.MANIFEST).write_text(json.dumps({"run": run.pk + 1}), encoding="utf-8")
    assert services.recover_interrupted_runs(now=later(services.STALE_AFTER)) == 1
    assert other.is_dir()
    assert not services.dataset_path(run.project, 1).exists()


def test_a_dead_workers_linkage_fails_and_its_cohort_is_deleted_once(linkable, settings):
    queued = request(linkable)
    cohort = linkages.cohort_path(queued)
    assert cohort.is_file()
    run = linkages.claim(queued.pk)
    assert run is not None
    staging = linkages.staging_path(run)
    staging.mkdir(parents=True)
    (staging / linkages.LINKS_FILE).write_bytes(b"PAR1 partial")

    assert linkages.recover_interrupted_linkages() == 0
    assert cohort.is_file()

    assert linkages.recover_interrupted_linkages(now=later(linkages.STALE_AFTER)) == 1
    run.refresh_from_db()
    assert run.status == "failed"
    assert run.error.startswith("LinkageFailed: Interrompu")
    assert run.cohort_deleted_at is not None
    assert not cohort.exists()
    assert not leftovers(settings)
    assert not staging.exists()
    published = lake.root() / linkable.dataset.path
    assert sorted(p.name for p in published.parent.iterdir()) == [published.name]
    assert [e.outcome for e in events("linkage.finished", run)] == ["failure"]
    deleted = events("linkage.cohort_deleted", run)
    assert [(e.outcome, e.details["present"]) for e in deleted] == [("success", True)]

    assert linkages.recover_interrupted_linkages(now=later(2 * linkages.STALE_AFTER)) == 0
    assert len(events("linkage.cohort_deleted", run)) == 1
    assert len(events("linkage.finished", run)) == 1
    # The project can link again.
    assert request(linkable).status == "queued"


def test_a_cohort_whose_deletion_failed_is_deleted_by_a_later_sweep(linkable, settings):
    queued = request(linkable)
    done = linkages._fail(queued.pk, "LinkageFailed: test")
    cohort = linkages.cohort_path(done)
    assert cohort.is_file()
    # Within the interval its worker may still be deleting it: left alone.
    assert linkages.recover_interrupted_linkages() == 0
    assert cohort.is_file()
    linkages.recover_interrupted_linkages(now=later(linkages.STALE_AFTER))
    assert not cohort.exists()
    assert LinkageRun.objects.get(pk=done.pk).cohort_deleted_at is not None
    linkages.recover_interrupted_linkages(now=later(2 * linkages.STALE_AFTER))
    assert len(events("linkage.cohort_deleted", done)) == 1


def test_the_worker_sweeps_periodically_and_operators_from_the_cli(world, settings, tmp_path):
    settings.HDH_HOME = tmp_path / "home"
    assert "hdh.preparation.tasks.sweep_interrupted_runs" in settings.HDH_PERIODIC_TASKS
    run = killed_preparation(world)
    with clock.frozen(later(services.STALE_AFTER)):
        out = StringIO()
        call_command("prepare", "sweep", stdout=out)
        assert "1 interrupted preparation run(s)" in out.getvalue()
        assert tasks.sweep_interrupted_runs.call() == {
            "runs_interrupted": 0,
            "linkages_interrupted": 0,
        }
    assert PreparationRun.objects.get(pk=run.pk).status == "failed"


def test_a_dead_workers_sql_job_loses_its_staging_folder(db, settings, tmp_path, synthetic_snds):  # type: ignore[no-untyped-def]
    from hdh.workspace import jobs, storage
    from tests.workspace.factories import create_project

    settings.HDH_WORKSPACES = tmp_path / "workspaces"
    project = create_project(tmp_path, synthetic_snds)
    workspace = project.workspace()
    job = jobs.submit_job(
        workspace=workspace, kind="sql", name="a.sql", script="SELECT 1;", by=project.lead
    )
    assert jobs._claim(job.pk) is not None
    outputs = storage.outputs_folder(workspace.reference, job.number)
    staged = outputs / ".staging-k1ll3d"
    staged.mkdir(parents=True)
    (staged / "result-1.csv").write_text("1\n", encoding="utf-8")

    assert jobs.recover_interrupted_jobs(now=later(jobs.STALE_AFTER)) == 1
    job.refresh_from_db()
    assert job.status == "failed"
    assert list(outputs.iterdir()) == []
