"""Code lists (nomenclatures) and their codes, part of a dictionary version."""

from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class CodeList(models.Model):
    version = models.ForeignKey(
        "catalog.DictionaryVersion", on_delete=models.CASCADE, related_name="code_lists"
    )
    name = models.CharField(_("nom"), max_length=128)
    title = models.CharField(_("libellé"), max_length=500, blank=True)
    description = models.TextField(_("description"), blank=True)
    source = models.CharField(_("source"), max_length=128, blank=True)
    code_field = models.CharField(_("colonne des codes"), max_length=128, blank=True)
    label_field = models.CharField(_("colonne des libellés"), max_length=128, blank=True)
    columns = models.JSONField(_("colonnes"), default=list, blank=True)
    # False when the source described the list but did not supply its values.
    has_values = models.BooleanField(_("valeurs fournies"), default=True)
    code_count = models.PositiveIntegerField(_("nombre de codes"), default=0)

    class Meta:
        ordering = ["name"]
        verbose_name = _("nomenclature")
        verbose_name_plural = _("nomenclatures")
        constraints = [
            models.UniqueConstraint(fields=["version", "name"], name="catalog_codelist_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse(
            "catalog:code_list", kwargs={"slug": self.version.base.slug, "name": self.name}
        )


class Code(models.Model):
    code_list = models.ForeignKey(
        CodeList, on_delete=models.CASCADE, related_name="codes", db_index=False
    )
    code = models.CharField(_("code"), max_length=100)
    label = models.TextField(_("libellé"), blank=True)
    # Code and label folded (no accents, lower case), for the code-list page's search.
    search_text = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["code_list_id", "position"]
        verbose_name = _("code")
        verbose_name_plural = _("codes")
        indexes = [models.Index(fields=["code_list", "position"], name="catalog_code_order")]

    def __str__(self) -> str:
        return f"{self.code} {self.label[:60]}"
