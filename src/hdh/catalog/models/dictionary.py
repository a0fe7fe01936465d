"""A base's data dictionary, versioned: tables, their keys and relations, variables."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from hdh.core import clock


class DictionaryVersion(models.Model):
    """One import (or edit) of a base's data dictionary. Older versions stay readable."""

    base = models.ForeignKey(
        "catalog.Base", verbose_name=_("base"), on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField(_("numéro"))
    source = models.CharField(_("source"), max_length=300, blank=True)
    note = models.TextField(_("note"), max_length=2000, blank=True)
    created_at = models.DateTimeField(_("créée le"), default=clock.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["base_id", "-number"]
        verbose_name = _("version du dictionnaire")
        verbose_name_plural = _("versions du dictionnaire")
        constraints = [
            models.UniqueConstraint(fields=["base", "number"], name="catalog_version_number"),
        ]

    def __str__(self) -> str:
        return f"{self.base.slug} v{self.number}"


class Table(models.Model):
    version = models.ForeignKey(DictionaryVersion, on_delete=models.CASCADE, related_name="tables")
    name = models.CharField(_("nom"), max_length=128)
    title = models.CharField(_("libellé"), max_length=500, blank=True)
    description = models.TextField(_("description"), blank=True)
    product = models.CharField(_("produit"), max_length=128, blank=True)
    primary_key = models.JSONField(_("clé primaire"), default=list, blank=True)
    history = models.JSONField(_("historique"), default=dict, blank=True)
    # Table Schema properties kept as they came (champ, observation, missingValues…).
    extra = models.JSONField(default=dict, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["product", "name"]
        verbose_name = _("table")
        verbose_name_plural = _("tables")
        constraints = [
            models.UniqueConstraint(fields=["version", "name"], name="catalog_table_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:table", kwargs={"slug": self.version.base.slug, "table": self.name})


class Relation(models.Model):
    """A foreign key: ``fields`` of ``table`` reference ``target_fields`` of ``target_name``."""

    table = models.ForeignKey(Table, on_delete=models.CASCADE, related_name="relations")
    fields = models.JSONField(_("champs"), default=list)
    target_name = models.CharField(_("table référencée"), max_length=128)
    target = models.ForeignKey(
        Table, null=True, blank=True, on_delete=models.SET_NULL, related_name="referenced_by"
    )
    target_fields = models.JSONField(_("champs référencés"), default=list)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["table_id", "id"]
        verbose_name = _("relation")
        verbose_name_plural = _("relations")

    def __str__(self) -> str:
        return f"{self.table.name}({', '.join(self.fields)}) → {self.target_name}"


class Variable(models.Model):
    table = models.ForeignKey(Table, on_delete=models.CASCADE, related_name="variables")
    name = models.CharField(_("nom"), max_length=128)
    label = models.CharField(_("libellé"), max_length=500, blank=True)
    description = models.TextField(_("description"), blank=True)
    type = models.CharField(_("type"), max_length=20, default="string")
    format = models.CharField(_("format"), max_length=60, blank=True)
    length = models.CharField(_("longueur"), max_length=20, blank=True)
    constraints = models.JSONField(_("contraintes"), default=dict, blank=True)
    code_list = models.ForeignKey(
        "catalog.CodeList",
        verbose_name=_("nomenclature"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="variables",
    )
    # The name as the source gave it, kept when no such code list was supplied.
    code_list_name = models.CharField(_("nom de la nomenclature"), max_length=128, blank=True)
    date_created = models.CharField(_("date de création"), max_length=30, blank=True)
    date_deleted = models.CharField(_("date de suppression"), max_length=30, blank=True)
    management_rule = models.TextField(_("règle de gestion"), blank=True)
    observation = models.TextField(_("observation"), blank=True)
    is_direct_identifier = models.BooleanField(_("identifiant direct"), default=False)
    is_potential_identifier = models.BooleanField(_("identifiant potentiel"), default=False)
    is_pseudonym = models.BooleanField(_("pseudonyme"), default=False)
    extra = models.JSONField(default=dict, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["table_id", "position"]
        verbose_name = _("variable")
        verbose_name_plural = _("variables")
        constraints = [
            models.UniqueConstraint(fields=["table", "name"], name="catalog_variable_name"),
        ]

    def __str__(self) -> str:
        return f"{self.table.name}.{self.name}"

    def get_absolute_url(self) -> str:
        table = self.table
        return reverse(
            "catalog:variable",
            kwargs={"slug": table.version.base.slug, "table": table.name, "variable": self.name},
        )
