"""Reading workspaces for pages (no writes, no audit events).

Pages still check ``has_permission`` on the workspace before showing any of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db.models import QuerySet

from hdh.access.models import Permit
from hdh.audit.models import AuditEvent
from hdh.core import lake
from hdh.preparation.models import ProjectDataset
from hdh.workspace import storage
from hdh.workspace.models import Job, Output, Workspace, WorkspaceState
from hdh.workspace.policies import OPENABLE_STATES

REFERENCE_PREFIX = "ET-"
REFERENCE_LENGTH = 24
# Every event of a workspace is recorded with the workspace as its target.
TARGET_TYPE = Workspace._meta.label_lower


def reference_for(permit: Permit) -> str:
    """The workspace reference a permit gives: ``ET-`` and the permit's reference."""
    return (REFERENCE_PREFIX + permit.reference)[:REFERENCE_LENGTH]


def current_dataset(workspace: Workspace) -> ProjectDataset | None:
    """The permit's dataset in force (a newer preparation supersedes the older one)."""
    return (
        ProjectDataset.objects.filter(permit_id=workspace.permit_id, superseded_at__isnull=True)
        .order_by("-version")
        .first()
    )


def current_dataset_of_permit_exists(permit: Permit) -> bool:
    return ProjectDataset.objects.filter(permit=permit, superseded_at__isnull=True).exists()


def dataset_folder(dataset: ProjectDataset) -> Path:
    """Where preparation published ``dataset`` (its tables and manifest).

    Preparation records the folder relative to the lake root; the workspace
    reads that record (it never imports the lake or preparation's engine side)
    and refuses a record that would lead anywhere but a project's datasets.
    """
    root = lake.root().resolve()
    folder = (root / dataset.path).resolve()
    expected = root / "projects" / lake.safe_segment(dataset.project.reference) / "datasets"
    if folder.parent != expected:
        raise ValueError("the dataset's recorded folder is not one of its project's datasets")
    return folder


@dataclass(frozen=True)
class WorkspaceRow:
    """One line of "my workspaces": a permit the person is a member of."""

    permit: Permit
    workspace: Workspace | None
    reference: str
    state: str  # a WorkspaceState value, or "pending" while no dataset is published

    @property
    def title(self) -> str:
        return str(self.permit.application.title)

    @property
    def end_date(self) -> Any:
        return self.permit.end_date


def workspaces_of(user: Any) -> list[WorkspaceRow]:
    """The permits ``user`` is a member of, with their workspace when one is open.

    Read-only and archived workspaces are listed (as such); a permit whose
    data is not prepared yet is listed as "pending".
    """
    user_id = getattr(user, "pk", None)
    if user_id is None or not getattr(user, "is_active", False):
        return []
    permits = Permit.objects.select_related("application", "project").order_by("-issued_at")
    workspaces = {
        w.permit_id: w for w in Workspace.objects.select_related("permit", "project").all()
    }
    rows = []
    for permit in permits:
        if user_id not in permit.member_ids():
            continue
        workspace = workspaces.get(permit.pk)
        if workspace is not None:
            workspace.permit = permit
            rows.append(
                WorkspaceRow(permit, workspace, workspace.reference, workspace.effective_state())
            )
            continue
        if permit.application.state not in OPENABLE_STATES or not permit.is_active():
            continue
        ready = current_dataset_of_permit_exists(permit)
        rows.append(
            WorkspaceRow(
                permit, None, reference_for(permit), WorkspaceState.OPEN if ready else "pending"
            )
        )
    return rows


def jobs_of(workspace: Workspace) -> QuerySet[Job]:
    return (
        Job.objects.filter(workspace=workspace).select_related("submitted_by").order_by("-number")
    )


def outputs_of(workspace: Workspace, *, include_superseded: bool = False) -> QuerySet[Output]:
    found = Output.objects.filter(workspace=workspace).select_related("job")
    if not include_superseded:
        found = found.filter(superseded_at__isnull=True)
    return found.order_by("name", "-created_at")


def job_log(job: Job, *, limit: int = 200_000) -> str:
    """The end of the job's log as the sandbox wrote it."""
    return storage.read_log(job.workspace.reference, job.number, limit=limit)


def audit_trail(workspace: Workspace, limit: int = 200) -> list[AuditEvent]:
    """The workspace's own events, newest first."""
    return list(
        AuditEvent.objects.filter(target_type=TARGET_TYPE, target_id=str(workspace.pk)).order_by(
            "-seq"
        )[: max(0, int(limit))]
    )
