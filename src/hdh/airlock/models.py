"""Release requests, their files, the checkers' votes, comments and released files.

Personal data held here: who requested, checked and commented (user references),
and the comments' text, which must not contain health data. The files themselves
are not in the database: the airlock keeps its own copy of each file's bytes
(``settings.HDH_AIRLOCK``, content-addressed by SHA-256) taken when it is added,
and released files are copied again into the release store.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from hdh.airlock.states import CheckStatus, FileKind, State, Visibility, Vote
from hdh.core import clock
from hdh.core.governance import GovernedModel

TEXT_LIMIT = 5000
NAME_LIMIT = 255


class ReleaseRequest(GovernedModel):
    """A bundle of workspace outputs a project asks to take out of the platform."""

    workspace = models.ForeignKey(
        "workspace.Workspace", on_delete=models.PROTECT, related_name="release_requests"
    )
    number = models.PositiveIntegerField()
    state = models.CharField(_("état"), max_length=20, choices=State.choices, default=State.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Each submission opens a turn of review; votes and comments record theirs.
    turn = models.PositiveIntegerField(default=1)
    # The disclosure thresholds the automated checks used (hdh.airlock.check.Policy).
    policy = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "number"], name="airlock_request_number"),
        ]
        verbose_name = _("demande de sortie")
        verbose_name_plural = _("demandes de sortie")

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"{self.workspace.reference}-S{self.number}"

    def get_absolute_url(self) -> str:
        return reverse("airlock:detail", args=[self.pk])


class Transition(GovernedModel):
    """One move of a request, as its history shows it."""

    request = models.ForeignKey(ReleaseRequest, on_delete=models.CASCADE, related_name="history")
    from_state = models.CharField(max_length=20, choices=State.choices)
    to_state = models.CharField(max_length=20, choices=State.choices)
    turn = models.PositiveIntegerField()
    at = models.DateTimeField(default=clock.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["request_id", "at", "id"]
        verbose_name = _("étape de la demande de sortie")
        verbose_name_plural = _("étapes des demandes de sortie")

    def __str__(self) -> str:
        return f"{self.from_state} → {self.to_state}"


class FileGroup(GovernedModel):
    """Files that go together, with what they show and how disclosure was controlled."""

    request = models.ForeignKey(ReleaseRequest, on_delete=models.CASCADE, related_name="groups")
    name = models.CharField(_("nom du groupe"), max_length=100)
    context = models.TextField(_("contexte"), max_length=TEXT_LIMIT, blank=True)
    controls = models.TextField(_("contrôles appliqués"), max_length=TEXT_LIMIT, blank=True)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["request_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["request", "name"], name="airlock_group_name"),
        ]
        verbose_name = _("groupe de fichiers")
        verbose_name_plural = _("groupes de fichiers")

    def __str__(self) -> str:
        return self.name


class RequestFile(GovernedModel):
    """One file of a request: the airlock's copy of a workspace output, and its checks."""

    request = models.ForeignKey(ReleaseRequest, on_delete=models.CASCADE, related_name="files")
    group = models.ForeignKey(FileGroup, on_delete=models.PROTECT, related_name="files")
    output = models.ForeignKey("workspace.Output", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("nom"), max_length=NAME_LIMIT)
    kind = models.CharField(
        _("nature"), max_length=12, choices=FileKind.choices, default=FileKind.OUTPUT
    )
    # The copy: ``HDH_AIRLOCK / "files" / sha256[:2] / sha256``.
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    media_type = models.CharField(max_length=100)
    check_status = models.CharField(max_length=10, choices=CheckStatus.choices)
    # The automated checks for the review page: findings and the table cell by cell.
    checks = models.JSONField(default=dict)
    # ACRO-compatible results.json of the checks (hdh.airlock.check.Report).
    results = models.JSONField(default=dict)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField(default=clock.now)
    # Bumped when the requester replaces the bytes; votes on older versions are dropped.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["request_id", "group_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["request", "name"], name="airlock_file_name"),
        ]
        verbose_name = _("fichier d'une demande de sortie")
        verbose_name_plural = _("fichiers des demandes de sortie")

    def __str__(self) -> str:
        return self.name


class Review(GovernedModel):
    """A checker's submitted review of one turn: their votes then count."""

    request = models.ForeignKey(ReleaseRequest, on_delete=models.CASCADE, related_name="reviews")
    checker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    turn = models.PositiveIntegerField()
    submitted_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["request_id", "turn", "submitted_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "checker", "turn"], name="airlock_review_once_per_turn"
            ),
        ]
        verbose_name = _("examen soumis")
        verbose_name_plural = _("examens soumis")

    def __str__(self) -> str:
        return f"{self.request_id}/{self.turn}/{self.checker_id}"


class FileReview(GovernedModel):
    """A checker's vote on one file; dropped when the file's bytes change."""

    file = models.ForeignKey(RequestFile, on_delete=models.CASCADE, related_name="votes")
    checker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decision = models.CharField(max_length=20, choices=Vote.choices)
    turn = models.PositiveIntegerField()
    voted_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["file_id", "voted_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["file", "checker"], name="airlock_one_vote"),
        ]
        verbose_name = _("avis sur un fichier")
        verbose_name_plural = _("avis sur les fichiers")

    def __str__(self) -> str:
        return f"{self.file_id}:{self.decision}"


class Comment(GovernedModel):
    """A note on a request, one of its groups or one of its files."""

    request = models.ForeignKey(ReleaseRequest, on_delete=models.CASCADE, related_name="comments")
    group = models.ForeignKey(
        FileGroup, null=True, blank=True, on_delete=models.CASCADE, related_name="comments"
    )
    file = models.ForeignKey(
        RequestFile, null=True, blank=True, on_delete=models.CASCADE, related_name="comments"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    by_checker = models.BooleanField(default=False)
    text = models.TextField(_("commentaire"), max_length=TEXT_LIMIT)
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    turn = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["request_id", "created_at", "id"]
        verbose_name = _("commentaire de sortie")
        verbose_name_plural = _("commentaires de sortie")

    def __str__(self) -> str:
        return f"{self.request_id}:{self.pk}"


class ReleasedFile(GovernedModel):
    """A file that left the platform, with the checksum of the bytes released."""

    file = models.OneToOneField(RequestFile, on_delete=models.PROTECT, related_name="released")
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    released_at = models.DateTimeField(default=clock.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-released_at", "id"]
        verbose_name = _("fichier sorti")
        verbose_name_plural = _("fichiers sortis")

    def __str__(self) -> str:
        return f"{self.file.name} ({self.sha256[:12]})"
