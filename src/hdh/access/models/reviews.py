"""Reviews, the committee's opinion, the regulator's decision and the permit it creates."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hdh.access.models.applications import TEXT_LIMIT, Application, Project
from hdh.core import clock
from hdh.core.governance import GovernedModel


class OpinionOutcome(models.TextChoices):
    FAVOURABLE = "favourable", _("Favorable")
    FAVOURABLE_WITH_RECOMMENDATIONS = (
        "favourable_with_recommendations",
        _("Favorable avec recommandations"),
    )
    UNFAVOURABLE = "unfavourable", _("Défavorable")


class DecisionOutcome(models.TextChoices):
    AUTHORISED = "authorised", _("Autorisée")
    REFUSED = "refused", _("Refusée")


class Review(GovernedModel):
    """One reviewer on one application: conflict-of-interest declaration, then opinion."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="access_reviews"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField(default=clock.now)
    # None until the reviewer declares; True removes them from this application.
    has_conflict = models.BooleanField(_("conflit d'intérêts"), null=True)
    conflict_statement = models.TextField(
        _("déclaration d'intérêts"), max_length=TEXT_LIMIT, blank=True
    )
    declared_at = models.DateTimeField(null=True, blank=True)
    opinion = models.CharField(
        _("avis individuel"), max_length=40, choices=OpinionOutcome.choices, blank=True
    )
    rationale = models.TextField(_("motivation"), max_length=TEXT_LIMIT, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    # The member who chairs the committee on this file records its opinion once the
    # quorum of votes (the individual opinions above) is reached.
    chair = models.BooleanField(_("préside"), default=False)

    class Meta:
        ordering = ["application_id", "assigned_at", "id"]
        verbose_name = _("rapport")
        verbose_name_plural = _("rapports")
        constraints = [
            models.UniqueConstraint(fields=["application", "reviewer"], name="access_review_once"),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer} / {self.application_id}"


class CommitteeOpinion(GovernedModel):
    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="committee_opinions"
    )
    outcome = models.CharField(_("avis"), max_length=40, choices=OpinionOutcome.choices)
    rationale = models.TextField(_("motivation"), max_length=TEXT_LIMIT)
    recommendations = models.TextField(_("recommandations"), max_length=TEXT_LIMIT, blank=True)
    given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    given_at = models.DateTimeField(default=clock.now)
    # The votes the opinion was recorded on, and the quorum rule then in force.
    votes_favourable = models.PositiveSmallIntegerField(default=0)
    votes_with_recommendations = models.PositiveSmallIntegerField(default=0)
    votes_unfavourable = models.PositiveSmallIntegerField(default=0)
    quorum = models.CharField(max_length=8, blank=True)

    class Meta:
        ordering = ["application_id", "-given_at", "-id"]
        verbose_name = _("avis du comité")
        verbose_name_plural = _("avis du comité")

    def __str__(self) -> str:
        return self.get_outcome_display()


class Decision(GovernedModel):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="decisions")
    outcome = models.CharField(_("décision"), max_length=12, choices=DecisionOutcome.choices)
    rationale = models.TextField(_("motivation"), max_length=TEXT_LIMIT)
    conditions = models.TextField(_("conditions"), max_length=TEXT_LIMIT, blank=True)
    end_date = models.DateField(_("fin de l'autorisation"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["application_id", "-decided_at", "-id"]
        verbose_name = _("décision")
        verbose_name_plural = _("décisions")

    def __str__(self) -> str:
        return self.get_outcome_display()


class Permit(GovernedModel):
    """What preparation and the workspace consume: a frozen copy of what was authorised."""

    reference = models.CharField(_("référence"), max_length=20, unique=True)
    application = models.OneToOneField(Application, on_delete=models.PROTECT, related_name="permit")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="permits")
    # [{"base": slug, "table": name|None, "variable": name|None}, ...]
    perimeter = models.JSONField(_("périmètre"))
    # [{"user_id": int, "username": str, "role": ProjectRole}, ...]
    members = models.JSONField(_("membres"))
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    conditions = models.TextField(_("conditions"), max_length=TEXT_LIMIT, blank=True)
    end_date = models.DateField(_("fin de l'autorisation"))
    issued_at = models.DateTimeField(default=clock.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-issued_at"]
        verbose_name = _("autorisation d'accès")
        verbose_name_plural = _("autorisations d'accès")

    def __str__(self) -> str:
        return self.reference

    def is_active(self) -> bool:
        return self.closed_at is None and self.end_date >= clock.today()

    def member_ids(self) -> set[int]:
        return {int(member["user_id"]) for member in self.members}
