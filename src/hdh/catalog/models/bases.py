"""A base (database) of the catalog: the Health Data Hub entry and HealthDCAT-AP fields."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from hdh.catalog.vocabularies import (
    AccessRights,
    BaseKind,
    HealthCategory,
    MedicalDomain,
    UpdateFrequency,
)
from hdh.core import clock

if TYPE_CHECKING:
    from hdh.catalog.models.dictionary import DictionaryVersion

slug_validator = RegexValidator(
    regex=r"^[a-z0-9]+(?:-[a-z0-9]+)*\Z",
    message=_("Lettres minuscules, chiffres et tirets uniquement."),
    code="invalid_slug",
)
doi_validator = RegexValidator(
    regex=r"^10\.\d{4,9}/\S+\Z",
    message=_("Un DOI commence par « 10. » suivi d'un préfixe et d'un suffixe."),
    code="invalid_doi",
)


class Base(models.Model):
    # Identification
    slug = models.SlugField(
        _("identifiant d'URL"), max_length=80, unique=True, validators=[slug_validator]
    )
    title = models.CharField(_("titre"), max_length=300)
    acronym = models.CharField(_("acronyme"), max_length=40, blank=True)
    kind = models.CharField(
        _("type de base"), max_length=20, choices=BaseKind.choices, default=BaseKind.CATALOGUE
    )
    doi = models.CharField(_("DOI"), max_length=200, blank=True, validators=[doi_validator])
    hdh_reference = models.CharField(_("référence catalogue HDH"), max_length=60, blank=True)
    homepage = models.URLField(_("page d'accueil"), max_length=500, blank=True)
    # Description
    description = models.TextField(_("description"), max_length=20000)
    objective = models.TextField(_("objectif initial de la base"), max_length=5000, blank=True)
    medical_domain = models.CharField(
        _("domaine médical"),
        max_length=30,
        choices=MedicalDomain.choices,
        default=MedicalDomain.OTHER,
    )
    health_category = models.CharField(
        _("catégorie de données de santé (EHDS)"), max_length=4, choices=HealthCategory.choices
    )
    keywords = models.JSONField(_("mots-clés"), default=list, blank=True)
    coding_systems = models.JSONField(_("nomenclatures utilisées"), default=list, blank=True)
    funding = models.TextField(_("financements"), max_length=2000, blank=True)
    # Who
    data_holder = models.CharField(_("responsable de données"), max_length=200)
    holder_organisation = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("organisation responsable"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="catalog_bases",
        help_text=_("Ses producteurs de données peuvent modifier la fiche."),
    )
    scientific_contact_name = models.CharField(
        _("responsable scientifique"), max_length=200, blank=True
    )
    scientific_contact_email = models.EmailField(
        _("courriel du responsable scientifique"), blank=True
    )
    contact_name = models.CharField(_("contact complémentaire"), max_length=200, blank=True)
    contact_email = models.EmailField(_("courriel de contact"))
    hdab_name = models.CharField(
        _("organisme d'accès aux données de santé"), max_length=200, default="Health Data Hub"
    )
    hdab_email = models.EmailField(
        _("courriel de l'organisme d'accès"), default="contact@health-data-hub.fr"
    )
    # Access
    access_rights = models.CharField(
        _("droits d'accès"),
        max_length=12,
        choices=AccessRights.choices,
        default=AccessRights.NON_PUBLIC,
    )
    legal_basis = models.TextField(_("base légale"), max_length=2000, blank=True)
    retention_period = models.CharField(_("durée de conservation"), max_length=200, blank=True)
    # Coverage
    temporal_start = models.DateField(_("début de la couverture temporelle"), null=True, blank=True)
    temporal_end = models.DateField(_("fin de la couverture temporelle"), null=True, blank=True)
    spatial_coverage = models.CharField(
        _("couverture géographique"), max_length=200, default="France"
    )
    population_coverage = models.TextField(_("population couverte"), max_length=2000, blank=True)
    min_typical_age = models.PositiveSmallIntegerField(
        _("âge typique minimal"), null=True, blank=True, validators=[MaxValueValidator(130)]
    )
    max_typical_age = models.PositiveSmallIntegerField(
        _("âge typique maximal"), null=True, blank=True, validators=[MaxValueValidator(130)]
    )
    number_of_records = models.PositiveBigIntegerField(
        _("nombre d'enregistrements"), null=True, blank=True
    )
    number_of_unique_individuals = models.PositiveBigIntegerField(
        _("nombre d'individus distincts"), null=True, blank=True
    )
    update_frequency = models.CharField(
        _("fréquence de mise à jour"),
        max_length=10,
        choices=UpdateFrequency.choices,
        default=UpdateFrequency.UNKNOWN,
    )
    # Scientific use
    citation = models.TextField(_("référence à citer"), max_length=2000, blank=True)
    acknowledgement = models.TextField(_("texte de remerciement"), max_length=2000, blank=True)
    # Data dictionary
    current_version = models.ForeignKey(
        "catalog.DictionaryVersion",
        verbose_name=_("version courante du dictionnaire"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("créée le"), default=clock.now, editable=False)
    updated_at = models.DateTimeField(_("modifiée le"), default=clock.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["title"]
        verbose_name = _("base")
        verbose_name_plural = _("bases")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(min_typical_age__isnull=True)
                | models.Q(max_typical_age__isnull=True)
                | models.Q(min_typical_age__lte=models.F("max_typical_age")),
                name="catalog_base_age_range",
            ),
            models.CheckConstraint(
                condition=models.Q(temporal_start__isnull=True)
                | models.Q(temporal_end__isnull=True)
                | models.Q(temporal_start__lte=models.F("temporal_end")),
                name="catalog_base_temporal_range",
            ),
        ]

    def __str__(self) -> str:
        return self.display_title

    def get_absolute_url(self) -> str:
        return reverse("catalog:base", kwargs={"slug": self.slug})

    @property
    def display_title(self) -> str:
        if self.acronym and not self.title.startswith(self.acronym):
            return f"{self.acronym} \N{EN DASH} {self.title}"
        return self.title

    @property
    def dictionary(self) -> DictionaryVersion | None:
        return self.current_version
