"""The form producers fill in to describe a base (the service checks it again)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from hdh.catalog.models import Base
from hdh.catalog.services.bases import EDITABLE_FIELDS

LIST_FIELDS = ("keywords", "coding_systems")
MAX_ITEMS = 50
MAX_ITEM_LENGTH = 100


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.replace(";", ",").split(",") if item.strip()]


class BaseForm(forms.ModelForm[Base]):
    homepage = forms.URLField(
        label=_("page d'accueil"), required=False, max_length=500, assume_scheme="https"
    )
    keywords = forms.CharField(
        label=_("Mots-clés"),
        required=False,
        max_length=5000,
        help_text=_("Séparés par des virgules."),
    )
    coding_systems = forms.CharField(
        label=_("Nomenclatures utilisées"),
        required=False,
        max_length=5000,
        help_text=_("Séparées par des virgules, par exemple : CIM-10, CCAM."),
    )

    class Meta:
        model = Base
        fields = [name for name in EDITABLE_FIELDS if name not in LIST_FIELDS]
        widgets = {
            "temporal_start": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "temporal_end": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for name in LIST_FIELDS:
                self.initial[name] = ", ".join(getattr(self.instance, name))
        for field in self.fields.values():
            css = "fr-select" if isinstance(field.widget, forms.Select) else "fr-input"
            field.widget.attrs.setdefault("class", css)

    def _clean_list(self, name: str) -> list[str]:
        items = _split(self.cleaned_data.get(name, ""))
        if len(items) > MAX_ITEMS:
            raise forms.ValidationError(_("Au plus %(n)s éléments."), params={"n": MAX_ITEMS})
        if any(len(item) > MAX_ITEM_LENGTH for item in items):
            raise forms.ValidationError(
                _("Chaque élément fait au plus %(n)s caractères."), params={"n": MAX_ITEM_LENGTH}
            )
        return items

    def clean_keywords(self) -> list[str]:
        return self._clean_list("keywords")

    def clean_coding_systems(self) -> list[str]:
        return self._clean_list("coding_systems")

    def values(self) -> dict[str, Any]:
        """What to hand the service."""
        return {
            name: self.cleaned_data[name] for name in EDITABLE_FIELDS if name in self.cleaned_data
        }


class NewBaseForm(BaseForm):
    class Meta(BaseForm.Meta):
        fields = ["slug", *BaseForm.Meta.fields]
