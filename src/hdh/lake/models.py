"""What the lake holds: deposits (every attempt, with its report) and the
immutable dataset versions accepted deposits become, with their profiles."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hdh.core import clock
from hdh.core.governance import GovernedModel


class DepositStatus(models.TextChoices):
    ACCEPTED = "accepted", _("accepté")
    REJECTED = "rejected", _("refusé")


class DatasetVersion(GovernedModel):
    """One accepted deposit of a table: Parquet files and a manifest, never changed."""

    base = models.ForeignKey("catalog.Base", on_delete=models.PROTECT, related_name="lake_versions")
    table_name = models.CharField(_("table"), max_length=128)
    catalog_table = models.ForeignKey(
        "catalog.Table", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    number = models.PositiveIntegerField(_("numéro de version"))
    # Relative to the lake root (settings.HDH_LAKE).
    path = models.CharField(max_length=500)
    row_count = models.PositiveBigIntegerField(_("nombre de lignes"))
    byte_count = models.PositiveBigIntegerField(_("taille en octets"))
    manifest_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("créée le"), default=clock.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["base_id", "table_name", "-number"]
        verbose_name = _("version de jeu de données")
        verbose_name_plural = _("versions de jeux de données")
        constraints = [
            models.UniqueConstraint(
                fields=["base", "table_name", "number"], name="lake_version_number"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.base.slug}/{self.table_name} v{self.number}"


class Deposit(GovernedModel):
    """A producer's attempt to deposit a table's data, and its validation report."""

    reference = models.CharField(_("référence"), max_length=20, unique=True)
    base = models.ForeignKey("catalog.Base", on_delete=models.PROTECT, related_name="deposits")
    table_name = models.CharField(_("table"), max_length=128)
    status = models.CharField(_("statut"), max_length=10, choices=DepositStatus.choices)
    # Names, sizes, formats and checksums of the files; never their content.
    files = models.JSONField(_("fichiers"), default=list)
    report = models.JSONField(_("rapport de validation"), default=dict)
    row_count = models.PositiveBigIntegerField(_("nombre de lignes"), default=0)
    version = models.OneToOneField(
        DatasetVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="deposit"
    )
    created_at = models.DateTimeField(_("déposé le"), default=clock.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("dépôt")
        verbose_name_plural = _("dépôts")

    def __str__(self) -> str:
        return self.reference


class VariableProfile(GovernedModel):
    """Publishable statistics of one variable in one version (small counts removed)."""

    version = models.ForeignKey(DatasetVersion, on_delete=models.CASCADE, related_name="profiles")
    variable_name = models.CharField(_("variable"), max_length=128)
    stats = models.JSONField(_("statistiques"), default=dict)

    class Meta:
        ordering = ["version_id", "id"]
        verbose_name = _("profil de variable")
        verbose_name_plural = _("profils de variables")
        constraints = [
            models.UniqueConstraint(fields=["version", "variable_name"], name="lake_profile_var"),
        ]

    def __str__(self) -> str:
        return f"{self.version} {self.variable_name}"
