"""The objection register, project keys, extraction plans, runs, project datasets
and cohort linkages.

Personal data held here: the objection register holds only level-1 pseudonyms
(never a NIR); plans, runs, linkages and datasets hold catalogue names, counts
and checksums, never rows.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hdh.core import clock
from hdh.core.governance import GovernedModel


class ObjectionEntry(GovernedModel):
    """One objection, known only by the person's level-1 pseudonym."""

    reference = models.CharField(_("référence"), max_length=20, unique=True)
    pseudonym = models.CharField(max_length=17, db_index=True)
    key_version = models.PositiveIntegerField()
    effective_at = models.DateTimeField(_("prise d'effet"))
    withdrawn_at = models.DateTimeField(_("retrait"), null=True, blank=True)
    filed_at = models.DateTimeField(default=clock.now, editable=False)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-effective_at", "-id"]
        verbose_name = _("opposition")
        verbose_name_plural = _("oppositions")

    def __str__(self) -> str:
        return self.reference


class ObjectionChange(GovernedModel):
    """Each change to the register gets the next register version."""

    version = models.PositiveIntegerField(unique=True)
    entry = models.ForeignKey(ObjectionEntry, on_delete=models.PROTECT, related_name="changes")
    kind = models.CharField(max_length=10)  # "filed" | "withdrawn"
    at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["version"]

    def __str__(self) -> str:
        return f"v{self.version} {self.kind}"


class ProjectKey(GovernedModel):
    """A version of a project's level-2 key (derived in the key store, never stored here)."""

    project = models.ForeignKey("access.Project", on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField()
    master_version = models.PositiveIntegerField()
    fingerprint = models.CharField(max_length=16)
    created_at = models.DateTimeField(default=clock.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["project_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["project", "version"], name="preparation_key_version")
        ]

    def __str__(self) -> str:
        return f"{self.project_id} k{self.version}"


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    APPROVED = "approved", _("Approuvé")
    SUPERSEDED = "superseded", _("Remplacé")


class ExtractionPlan(GovernedModel):
    permit = models.ForeignKey("access.Permit", on_delete=models.PROTECT, related_name="+")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=12, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    # The engine-neutral plan (hdh.preparation.plan.Plan as JSON).
    spec = models.JSONField()
    created_at = models.DateTimeField(default=clock.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["permit_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["permit", "number"], name="preparation_plan_number")
        ]

    def __str__(self) -> str:
        return f"{self.permit_id} plan {self.number}"


class RunStatus(models.TextChoices):
    PENDING = "pending", _("En attente")
    RUNNING = "running", _("En cours")
    SUCCEEDED = "succeeded", _("Terminée")
    FAILED = "failed", _("Échouée")
    CANCELLED = "cancelled", _("Annulée")


TERMINAL = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED})


class PreparationRun(GovernedModel):
    plan = models.ForeignKey(ExtractionPlan, on_delete=models.PROTECT, related_name="runs")
    project = models.ForeignKey("access.Project", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=12, choices=RunStatus.choices, default=RunStatus.PENDING, db_index=True
    )
    engine = models.CharField(max_length=20, default="duckdb")
    key_version = models.PositiveIntegerField()
    reason = models.CharField(max_length=20, default="initial")  # "initial" | "rekey"
    # {"tables_done", "tables_total", "rows", "percent", "table"}
    progress = models.JSONField(default=dict)
    cancel_requested = models.BooleanField(default=False)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"run {self.pk} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL


class ProjectDataset(GovernedModel):
    """A published, complete project dataset: its folder exists and its manifest verifies."""

    project = models.ForeignKey("access.Project", on_delete=models.PROTECT, related_name="+")
    permit = models.ForeignKey("access.Permit", on_delete=models.PROTECT, related_name="+")
    # The extraction that wrote its tables; null for a version a cohort linkage
    # published on top of an earlier one (its ``linkage`` says which).
    run = models.OneToOneField(
        PreparationRun, null=True, blank=True, on_delete=models.PROTECT, related_name="dataset"
    )
    version = models.PositiveIntegerField()
    path = models.CharField(max_length=500)
    manifest = models.JSONField()
    manifest_sha256 = models.CharField(max_length=64)
    key_version = models.PositiveIntegerField()
    register_version = models.PositiveIntegerField()
    rows = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(default=clock.now)
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["project_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["project", "version"], name="preparation_dataset_ver")
        ]

    def __str__(self) -> str:
        return f"{self.project_id} v{self.version}"

    @property
    def preparation(self) -> PreparationRun:
        """The extraction whose tables this version holds (through any cohort linkage)."""
        dataset: ProjectDataset = self
        while dataset.run is None:
            dataset = dataset.linkage.source_dataset
        return dataset.run


class LinkageStatus(models.TextChoices):
    QUEUED = "queued", _("En file d'attente")
    RUNNING = "running", _("En cours")
    SUCCEEDED = "succeeded", _("Terminée")
    FAILED = "failed", _("Échouée")


LINKAGE_TERMINAL = frozenset({LinkageStatus.SUCCEEDED, LinkageStatus.FAILED})


class LinkageRun(GovernedModel):
    """Probabilistic linkage of an external cohort file to the SNDS beneficiaries.

    Holds parameters, counts and checksums only: the cohort file lives outside
    the lake while the run waits and is deleted when it ends; the published
    version holds study record ids and project pseudonyms, never a name, a
    birth date or a NIR.
    """

    permit = models.ForeignKey("access.Permit", on_delete=models.PROTECT, related_name="+")
    project = models.ForeignKey("access.Project", on_delete=models.PROTECT, related_name="+")
    # The version whose tables the linked version carries over unchanged.
    source_dataset = models.ForeignKey(
        ProjectDataset, on_delete=models.PROTECT, related_name="linkages_based_on"
    )
    dataset = models.OneToOneField(
        ProjectDataset, null=True, blank=True, on_delete=models.PROTECT, related_name="linkage"
    )
    status = models.CharField(
        max_length=12, choices=LinkageStatus.choices, default=LinkageStatus.QUEUED, db_index=True
    )
    threshold = models.FloatField()
    engine = models.CharField(max_length=20, default="duckdb")
    # records, comparisons, linked, expected precision/recall, Splink version, parameters…
    summary = models.JSONField(default=dict)
    error = models.CharField(max_length=2000, blank=True)
    cohort_bytes = models.PositiveBigIntegerField(default=0)
    cohort_sha256 = models.CharField(max_length=64, blank=True)
    cohort_records = models.PositiveIntegerField(default=0)
    cohort_deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("appariement de cohorte")
        verbose_name_plural = _("appariements de cohorte")

    def __str__(self) -> str:
        return f"linkage {self.pk} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in LINKAGE_TERMINAL
