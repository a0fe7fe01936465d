"""What a project gave back: its results and publications, shown in the public directory."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hdh.access.models.applications import Project
from hdh.core import clock
from hdh.core.governance import GovernedModel


class PublicationKind(models.TextChoices):
    ARTICLE = "article", _("Article")
    PREPRINT = "preprint", _("Prépublication")
    REPORT = "report", _("Rapport")
    THESIS = "thesis", _("Thèse")
    COMMUNICATION = "communication", _("Communication")
    DATASET = "dataset", _("Résultats agrégés")
    SOFTWARE = "software", _("Code")
    OTHER = "other", _("Autre")


class Publication(GovernedModel):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="publications")
    title = models.CharField(_("titre"), max_length=500)
    kind = models.CharField(_("nature"), max_length=16, choices=PublicationKind.choices)
    url = models.URLField(_("adresse (URL)"), max_length=500, blank=True)
    doi = models.CharField(_("DOI"), max_length=200, blank=True)
    published_on = models.DateField(_("date"))
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["project_id", "-published_on", "-id"]
        verbose_name = _("résultat ou publication")
        verbose_name_plural = _("résultats et publications")

    def __str__(self) -> str:
        return self.title

    def public(self) -> dict[str, str]:
        """The publication as the open data publishes it."""
        return {
            "title": self.title,
            "kind": self.kind,
            "url": self.url,
            "doi": self.doi,
            "date": self.published_on.isoformat(),
        }
