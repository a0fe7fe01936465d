from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from hdh.catalog.models import Base
from hdh.core.errors import ValidationFailed
from hdh.lake import uploads


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)]


class DepositForm(forms.Form):
    base = forms.ModelChoiceField(
        label=_("Base"), queryset=Base.objects.filter(current_version__isnull=False)
    )
    table = forms.CharField(
        label=_("Table"),
        max_length=128,
        help_text=_("Nom de la table dans le dictionnaire de la base, par exemple IR_BEN_R."),
    )
    uploads = MultipleFileField(
        label=_("Fichiers"),
        help_text=_(
            "CSV (encodage et séparateur détectés), Parquet, SAS (sas7bdat) ou Stata (dta)."
        ),
    )

    def clean_uploads(self) -> list[Any]:
        files: list[Any] = self.cleaned_data["uploads"]
        try:
            uploads.check(files)
        except ValidationFailed as exc:
            raise forms.ValidationError(str(exc)) from exc
        return files
