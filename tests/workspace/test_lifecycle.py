"""A workspace follows its permit: read-only once it ends, archived later; the task and command."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.conf import settings
from django.core.management import call_command

from hdh.access.services import decisions
from hdh.accounts.authorization import has_permission
from hdh.audit.models import AuditEvent
from hdh.core import clock
from hdh.core.errors import InvalidState, NotAllowed
from hdh.core.permissions import Permission
from hdh.workspace import jobs, queries, services, tasks
from hdh.workspace.models import Job, JobStatus, Workspace, WorkspaceState
from tests.workspace.factories import Project, run_job


def _actions(workspace: Workspace) -> list[str]:
    return list(
        AuditEvent.objects.filter(target_type=queries.TARGET_TYPE, target_id=str(workspace.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )


def _after_end(project: Project, days: int = 1) -> dt.datetime:
    end = project.permit.end_date
    return dt.datetime.combine(end + dt.timedelta(days=days), dt.time(12), tzinfo=dt.UTC)


@pytest.mark.usefixtures("bwrap_required")
def test_after_the_end_date_the_workspace_is_read_only_then_archived(project: Project) -> None:
    workspace = project.workspace()
    done = run_job(
        workspace,
        project.lead,
        kind="sql",
        name="n.sql",
        script="SELECT count(*) AS n FROM IR_BEN_R;",
    )
    assert done.status == JobStatus.SUCCEEDED, done.message
    queued = services.submit_job(
        workspace=workspace, kind="sql", name="q.sql", script="SELECT 1;", by=project.lead
    )
    running = services.submit_job(
        workspace=workspace, kind="sql", name="r.sql", script="SELECT 1;", by=project.lead
    )
    assert jobs._claim(running.pk) is not None
    assert services.sync_lifecycle() == {"read_only": 0, "archived": 0, "jobs_stopped": 0}

    with clock.frozen(_after_end(project)):
        # The dates rule even before the lifecycle task has run.
        assert workspace.effective_state() == WorkspaceState.READ_ONLY
        assert has_permission(project.member, Permission.WORKSPACE_ACCESS, workspace)
        assert not has_permission(project.member, Permission.WORKSPACE_QUERY, workspace)
        with pytest.raises(InvalidState) as caught:
            services.run_console_query(workspace=workspace, sql="SELECT 1", by=project.member)
        assert "lecture seule" in str(caught.value)
        with pytest.raises(InvalidState):
            services.submit_job(
                workspace=workspace, kind="sql", name="a.sql", script="SELECT 1;", by=project.lead
            )
        with pytest.raises(InvalidState):
            services.rerun_job(job=done, by=project.lead)
        # Outputs stay visible.
        (output,) = queries.outputs_of(workspace)
        assert services.output_preview(output=output, by=project.member).preview.kind == "table"

        assert services.sync_lifecycle() == {"read_only": 1, "archived": 0, "jobs_stopped": 2}
        assert services.sync_lifecycle() == {"read_only": 0, "archived": 0, "jobs_stopped": 0}
    workspace.refresh_from_db()
    assert workspace.state == WorkspaceState.READ_ONLY
    assert workspace.read_only_at is not None
    assert Job.objects.get(pk=queued.pk).status == JobStatus.CANCELLED
    assert Job.objects.get(pk=running.pk).cancel_requested
    actions = _actions(workspace)
    assert actions.count("workspace.read_only") == 1
    assert ("workspace.query", "denied") in [
        (e.action, e.outcome) for e in AuditEvent.objects.filter(action="workspace.query")
    ]
    assert "workspace.job_refused" in actions

    archive_day = settings.HDH_WORKSPACE_ARCHIVE_DAYS + 1
    with clock.frozen(_after_end(project, archive_day)):
        assert services.sync_lifecycle() == {"read_only": 0, "archived": 1, "jobs_stopped": 0}
        with pytest.raises(NotAllowed):
            services.workspace_by_reference(reference=workspace.reference, by=project.member)
        with pytest.raises(NotAllowed):
            services.output_preview(output=output, by=project.member)
        (row,) = services.workspaces_of(project.member)
        assert (row.workspace, row.state) == (workspace, WorkspaceState.ARCHIVED)
        assert services.sync_lifecycle()["archived"] == 0
    workspace.refresh_from_db()
    assert workspace.state == WorkspaceState.ARCHIVED
    assert workspace.archived_at is not None
    # Archived stays archived whatever the clock says.
    assert workspace.effective_state() == WorkspaceState.ARCHIVED


def test_a_long_ended_permit_goes_straight_to_archived_through_read_only(project: Project) -> None:
    workspace = project.workspace()
    later = _after_end(project, settings.HDH_WORKSPACE_ARCHIVE_DAYS + 30)
    with clock.frozen(later):
        assert services.sync_lifecycle() == {"read_only": 1, "archived": 1, "jobs_stopped": 0}
    workspace.refresh_from_db()
    assert workspace.read_only_at is not None
    assert workspace.archived_at is not None
    actions = _actions(workspace)
    assert actions.index("workspace.read_only") < actions.index("workspace.archived")


def test_closing_the_project_makes_its_workspace_read_only_at_once(project: Project) -> None:
    workspace = project.workspace()
    decisions.close(by=project.team.officer, application=project.application, note="fin")
    workspace = Workspace.objects.get(pk=workspace.pk)
    assert workspace.effective_state() == WorkspaceState.READ_ONLY
    with pytest.raises(InvalidState):
        services.run_console_query(workspace=workspace, sql="SELECT 1", by=project.lead)
    assert services.sync_lifecycle()["read_only"] == 1


def test_a_job_queued_before_the_end_is_refused_when_the_worker_reaches_it(
    project: Project,
) -> None:
    workspace = project.workspace()
    job = services.submit_job(
        workspace=workspace, kind="sql", name="a.sql", script="SELECT 1;", by=project.lead
    )
    with clock.frozen(_after_end(project)):
        done = services.execute_job(job.pk)
    assert done.status == JobStatus.REFUSED
    assert "lecture seule" in done.message
    assert "workspace.job_started" not in _actions(workspace)


def test_the_lifecycle_command_and_the_periodic_task(project: Project) -> None:
    workspace = project.workspace()
    assert "hdh.workspace.tasks.maintain_workspaces" in settings.HDH_PERIODIC_TASKS
    out = io.StringIO()
    call_command("workspace", "list", stdout=out)
    assert workspace.reference in out.getvalue()
    with clock.frozen(_after_end(project)):
        out = io.StringIO()
        call_command("workspace", "lifecycle", stdout=out)
        assert out.getvalue().startswith("1 workspace(s) now read-only")
        assert tasks.maintain_workspaces.call() == {
            "read_only": 0,
            "archived": 0,
            "jobs_stopped": 0,
            "interrupted": 0,
        }
    assert Workspace.objects.get(pk=workspace.pk).state == WorkspaceState.READ_ONLY
