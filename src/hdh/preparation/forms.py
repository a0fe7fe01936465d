"""Forms of the data engineer's pages (every value is validated again by the plan)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from hdh.preparation.plan import DATE_MODES, MAX_SHIFT_DAYS


class PlanForm(forms.Form):
    sex = forms.ChoiceField(
        label=_("Sexe"),
        required=False,
        choices=[("", _("Tous")), ("1", _("Hommes")), ("2", _("Femmes"))],
    )
    birth_year_min = forms.IntegerField(
        label=_("Né(e)s à partir de"), required=False, min_value=1880, max_value=2200
    )
    birth_year_max = forms.IntegerField(
        label=_("Né(e)s jusqu'en"), required=False, min_value=1880, max_value=2200
    )
    departments = forms.CharField(
        label=_("Départements de résidence"),
        required=False,
        max_length=1000,
        help_text=_("Codes séparés par des espaces ou des virgules, par exemple : 75 13 2A"),
    )
    icd10 = forms.CharField(
        label=_("Diagnostics CIM-10 d'un séjour hospitalier de la période"),
        required=False,
        max_length=2000,
        help_text=_("Codes ou débuts de codes, par exemple : E11 I21"),
    )
    dates = forms.ChoiceField(
        label=_("Dates"),
        choices=[
            ("exact", _("Exactes")),
            ("shift", _("Décalées par personne")),
            ("month", _("Ramenées au mois")),
            ("year", _("Ramenées à l'année")),
        ],
    )
    shift_days = forms.IntegerField(
        label=_("Décalage maximal (jours)"), min_value=1, max_value=MAX_SHIFT_DAYS
    )
    potential_override = forms.CharField(
        label=_("Dérogation : plusieurs identifiants potentiels"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Citez l'article de l'autorisation qui le permet."),
    )

    def clean_dates(self) -> str:
        value = str(self.cleaned_data["dates"])
        if value not in DATE_MODES:
            raise forms.ValidationError(_("Choix invalide."))
        return value


class LinkageForm(forms.Form):
    """Parameters of a cohort linkage; the file itself is read by the view's upload handler."""

    threshold = forms.FloatField(
        label=_("Seuil de probabilité d'appariement"),
        initial=0.9,
        min_value=0.5,
        max_value=0.999,
        help_text=_("Entre 0,5 et 0,999 ; une paire n'est retenue qu'au-dessus de ce seuil."),
    )
    engine = forms.ChoiceField(label=_("Moteur"), choices=[("duckdb", "DuckDB")], initial="duckdb")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from hdh.engines import available

        engine = self.fields["engine"]
        assert isinstance(engine, forms.ChoiceField)
        engine.choices = [(name, name) for name in available()]
