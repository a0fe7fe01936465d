"""The question bank in the database: each wording is a version; answers keep theirs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hdh.access.models.applications import TEXT_LIMIT, Application
from hdh.catalog.models import Base
from hdh.core import clock
from hdh.core.governance import GovernedModel


class QuestionVersion(GovernedModel):
    """One wording of one question. Editing a question adds a version and retires the
    previous one (``current``); answers point to the version they answered.

    Questions without a base are the form's core, each answered in the application
    field of the same name; a question with a base is asked only when the requested
    perimeter includes that base, and answered in :class:`ExtraAnswer`.
    """

    key = models.SlugField(_("clé"), max_length=60)
    version = models.PositiveIntegerField(_("version"))
    label = models.CharField(_("intitulé"), max_length=300)
    help_text = models.TextField(_("aide"), max_length=1000, blank=True)
    required = models.BooleanField(_("obligatoire"), default=False)
    section = models.CharField(_("rubrique"), max_length=100, blank=True)
    position = models.PositiveIntegerField(_("ordre"), default=0)
    base = models.ForeignKey(
        Base, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    current = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["base_id", "position", "key", "version"]
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="access_question_version"),
            models.UniqueConstraint(
                fields=["key"],
                condition=models.Q(current=True),
                name="access_question_one_current",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} v{self.version}"


class ExtraAnswer(GovernedModel):
    """The answer to a base's own question, tied to the version it answered."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="extra_answers"
    )
    key = models.SlugField(max_length=60)
    question = models.ForeignKey(QuestionVersion, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("réponse"), max_length=TEXT_LIMIT, blank=True)
    answered_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["application_id", "key"]
        verbose_name = _("réponse complémentaire")
        verbose_name_plural = _("réponses complémentaires")
        constraints = [
            models.UniqueConstraint(fields=["application", "key"], name="access_extra_answer_once"),
        ]

    def __str__(self) -> str:
        return f"{self.application_id} / {self.key}"
