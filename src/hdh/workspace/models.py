"""Workspaces, batch jobs and their outputs.

Personal data held here: none in the database. Scripts are the researchers'
code; job logs and output files live on disk in the workspace folder and are
shown to the project's members only. Outputs leave the platform only through
the airlock, which takes its own copy of each file it is asked to release.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hdh.core import clock
from hdh.core.governance import GovernedModel

SCRIPT_LIMIT = 200_000


class WorkspaceState(models.TextChoices):
    OPEN = "open", _("ouvert")
    READ_ONLY = "read_only", _("lecture seule")
    ARCHIVED = "archived", _("archivé")


class Workspace(GovernedModel):
    """One sealed space per access permit, open to the permit's members until it ends."""

    reference = models.CharField(_("référence"), max_length=24, unique=True)
    project = models.ForeignKey("access.Project", on_delete=models.PROTECT, related_name="+")
    permit = models.OneToOneField(
        "access.Permit", on_delete=models.PROTECT, related_name="workspace"
    )
    state = models.CharField(
        _("état"), max_length=12, choices=WorkspaceState.choices, default=WorkspaceState.OPEN
    )
    opened_at = models.DateTimeField(default=clock.now)
    read_only_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        verbose_name = _("espace projet")
        verbose_name_plural = _("espaces projet")

    def __str__(self) -> str:
        return self.reference

    def effective_state(self, today: dt.date | None = None) -> str:
        """The state the permit's dates impose, even before the lifecycle task records it."""
        if self.state == WorkspaceState.ARCHIVED:
            return WorkspaceState.ARCHIVED
        permit = self.permit
        today = today or clock.today()
        if permit.closed_at is None and permit.end_date >= today:
            return str(self.state)
        ended = permit.end_date
        if permit.closed_at is not None:
            ended = min(ended, permit.closed_at.astimezone(dt.UTC).date())
        if (today - ended).days > settings.HDH_WORKSPACE_ARCHIVE_DAYS:
            return WorkspaceState.ARCHIVED
        return WorkspaceState.READ_ONLY


class JobKind(models.TextChoices):
    PYTHON = "python", _("Python")
    SQL = "sql", _("SQL")


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("en attente")
    RUNNING = "running", _("en cours")
    SUCCEEDED = "succeeded", _("terminé")
    FAILED = "failed", _("en échec")
    TIMED_OUT = "timed_out", _("délai dépassé")
    CANCELLED = "cancelled", _("annulé")
    REFUSED = "refused", _("refusé")


TERMINAL_JOB_STATUSES = frozenset(
    {
        JobStatus.SUCCEEDED,
        JobStatus.FAILED,
        JobStatus.TIMED_OUT,
        JobStatus.CANCELLED,
        JobStatus.REFUSED,
    }
)


class Job(GovernedModel):
    """A script run in the sandbox against the project's current dataset."""

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="jobs")
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=JobKind.choices)
    name = models.CharField(_("nom du script"), max_length=120)
    script = models.TextField(max_length=SCRIPT_LIMIT)
    script_sha256 = models.CharField(max_length=64)
    dataset = models.ForeignKey(
        "preparation.ProjectDataset", on_delete=models.PROTECT, related_name="+", null=True
    )
    status = models.CharField(max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED)
    limits = models.JSONField(default=dict)
    exit_code = models.IntegerField(null=True, blank=True)
    message = models.CharField(max_length=500, blank=True)
    cancel_requested = models.BooleanField(default=False)
    rerun_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reruns"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["workspace_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "number"], name="workspace_job_number"),
        ]
        verbose_name = _("traitement")
        verbose_name_plural = _("traitements")

    def __str__(self) -> str:
        return f"{self.workspace.reference}#{self.number}"

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_JOB_STATUSES


class Output(GovernedModel):
    """A file a job wrote into the workspace's outputs; immutable once recorded.

    A later job writing the same name makes a new output and marks this one
    superseded; the file of each version stays on disk for the airlock.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="outputs")
    job = models.ForeignKey(Job, on_delete=models.PROTECT, related_name="outputs")
    name = models.CharField(_("nom"), max_length=255)
    path = models.CharField(max_length=500)  # relative to the workspaces root
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    media_type = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=clock.now)
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["workspace_id", "name", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "name"],
                condition=models.Q(superseded_at__isnull=True),
                name="workspace_output_current_name",
            ),
        ]
        verbose_name = _("sortie")
        verbose_name_plural = _("sorties")

    def __str__(self) -> str:
        return self.name
