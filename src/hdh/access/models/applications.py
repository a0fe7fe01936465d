"""A project and its applications: the form, the team, the requested perimeter.

Personal data held here is about platform users (team members, authors); the
perimeter names catalogued variables, never patient data.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from hdh.access.states import FINAL_STATES, Holder, Kind, LegalRoute, Stage, State
from hdh.core import clock
from hdh.core.governance import GovernedModel
from hdh.core.permissions import PROJECT_ROLES, ProjectRole

PROJECT_ROLE_CHOICES = [(role.value, PROJECT_ROLES[role].label) for role in ProjectRole]
TEXT_LIMIT = 10000


class Project(GovernedModel):
    """What the public directory lists; its applications carry the procedure."""

    reference = models.CharField(_("référence"), max_length=20, unique=True)
    title = models.CharField(_("titre"), max_length=300)
    created_at = models.DateTimeField(_("créé le"), default=clock.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("projet")
        verbose_name_plural = _("projets")

    def __str__(self) -> str:
        return f"{self.reference} — {self.title}"


class Application(GovernedModel):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="applications")
    kind = models.CharField(_("nature"), max_length=12, choices=Kind.choices, default=Kind.INITIAL)
    state = models.CharField(
        _("état"), max_length=20, choices=State.choices, default=State.DRAFT, db_index=True
    )
    legal_route = models.CharField(
        _("voie d'accès"), max_length=12, choices=LegalRoute.choices, default=LegalRoute.STANDARD
    )
    # The form (version 1 of the question bank: see docs/adr/0006)
    form_version = models.PositiveSmallIntegerField(_("version du formulaire"), default=1)
    # {question key: version of the question when it was answered} (see questions.py)
    answer_versions = models.JSONField(_("versions des questions"), default=dict, blank=True)
    title = models.CharField(_("titre du projet"), max_length=300)
    lay_summary = models.TextField(_("résumé grand public"), max_length=TEXT_LIMIT, blank=True)
    technical_summary = models.TextField(_("résumé technique"), max_length=TEXT_LIMIT, blank=True)
    purpose = models.TextField(_("finalité"), max_length=TEXT_LIMIT, blank=True)
    public_interest = models.TextField(_("intérêt public"), max_length=TEXT_LIMIT, blank=True)
    controller_name = models.CharField(_("responsable de traitement"), max_length=300, blank=True)
    implementer_name = models.CharField(
        _("responsable de mise en œuvre"), max_length=300, blank=True
    )
    funding = models.TextField(_("financements"), max_length=TEXT_LIMIT, blank=True)
    declarations_of_interest = models.TextField(
        _("déclarations d'intérêts"), max_length=TEXT_LIMIT, blank=True
    )
    linkages = models.TextField(_("appariements demandés"), max_length=TEXT_LIMIT, blank=True)
    expected_outputs = models.TextField(_("résultats attendus"), max_length=TEXT_LIMIT, blank=True)
    duration_months = models.PositiveSmallIntegerField(
        _("durée demandée (mois)"), null=True, blank=True
    )
    processing_location = models.CharField(_("lieu du traitement"), max_length=300, blank=True)
    # The perimeter's period and population; its bases, tables and variables are PerimeterItem.
    period_start = models.DateField(_("début de la période étudiée"), null=True, blank=True)
    period_end = models.DateField(_("fin de la période étudiée"), null=True, blank=True)
    population_criteria = models.TextField(
        _("critères de population"), max_length=TEXT_LIMIT, blank=True
    )
    protocol = models.FileField(_("protocole"), upload_to="access/protocols/", blank=True)
    protocol_name = models.CharField(_("nom du fichier du protocole"), max_length=200, blank=True)
    # Workflow and clock
    returned_from = models.CharField(max_length=20, choices=State.choices, blank=True)
    holder = models.CharField(
        _("détenteur du dossier"), max_length=12, choices=Holder.choices, default=Holder.APPLICANT
    )
    stage = models.CharField(_("étape"), max_length=14, choices=Stage.choices, blank=True)
    stage_started_at = models.DateTimeField(_("début de l'étape"), null=True, blank=True)
    stage_due_at = models.DateTimeField(_("échéance de l'étape"), null=True, blank=True)
    stage_extended = models.BooleanField(_("délai prolongé"), default=False)
    paused_at = models.DateTimeField(_("horloge suspendue depuis"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("déposée le"), null=True, blank=True)
    created_at = models.DateTimeField(_("créée le"), default=clock.now, editable=False)
    updated_at = models.DateTimeField(_("modifiée le"), default=clock.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("demande d'accès")
        verbose_name_plural = _("demandes d'accès")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_start__isnull=True)
                | models.Q(period_end__isnull=True)
                | models.Q(period_start__lte=models.F("period_end")),
                name="access_application_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project.reference} — {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("access:detail", kwargs={"pk": self.pk})

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def is_overdue(self) -> bool:
        return (
            self.stage_due_at is not None
            and self.paused_at is None
            and not self.is_final
            and self.stage_due_at < clock.now()
        )


class TeamMember(GovernedModel):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="team")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="access_memberships"
    )
    role = models.CharField(_("rôle dans le projet"), max_length=20, choices=PROJECT_ROLE_CHOICES)
    added_at = models.DateTimeField(_("ajouté le"), default=clock.now)

    class Meta:
        ordering = ["application_id", "role", "id"]
        verbose_name = _("membre de l'équipe")
        verbose_name_plural = _("membres de l'équipe")
        constraints = [
            models.UniqueConstraint(fields=["application", "user"], name="access_member_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"


class PerimeterItem(GovernedModel):
    """One base, table or variable requested, with why it is needed (data minimisation)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="perimeter")
    base = models.ForeignKey("catalog.Base", on_delete=models.PROTECT, related_name="+")
    table = models.ForeignKey(
        "catalog.Table", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    variable = models.ForeignKey(
        "catalog.Variable", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    justification = models.TextField(_("justification"), max_length=2000)

    class Meta:
        ordering = ["application_id", "base_id", "table_id", "variable_id"]
        verbose_name = _("élément du périmètre")
        verbose_name_plural = _("éléments du périmètre")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(variable__isnull=True) | models.Q(table__isnull=False),
                name="access_perimeter_variable_has_table",
            ),
        ]

    def __str__(self) -> str:
        if self.variable_id:
            return f"{self.base.slug}/{self.variable}"
        if self.table_id:
            return f"{self.base.slug}/{self.table}"
        return self.base.slug


class StageEntry(GovernedModel):
    """One transition, as the clock and the public directory read it."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="history")
    from_state = models.CharField(max_length=20, choices=State.choices)
    to_state = models.CharField(max_length=20, choices=State.choices)
    holder = models.CharField(max_length=12, choices=Holder.choices)
    at = models.DateTimeField(default=clock.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(max_length=TEXT_LIMIT, blank=True)

    class Meta:
        ordering = ["application_id", "at", "id"]
        verbose_name = _("étape franchie")
        verbose_name_plural = _("étapes franchies")

    def __str__(self) -> str:
        return f"{self.from_state} → {self.to_state}"
