"""Public forms: strict, bounded fields; messages never repeat what was typed."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from hdh.citizens.models import RightsKind
from hdh.core import clock
from hdh.keys import nir as nir_rules

_NAME = re.compile(r"^[^\W\d_]+(?:[ '\-’.][^\W\d_]+)*\.?$")
_REFERENCE = re.compile(r"^[A-Z]{3}-[0-9A-Z]{10}$")
SEXES = (("", _("Choisir")), ("1", _("Homme")), ("2", _("Femme")))


# A text field rather than type="date": the browser's date widget orders its parts by
# the browser's own language, which keyboard users cannot predict.
DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]


def _date_input() -> forms.DateInput:
    return forms.DateInput(
        attrs={"class": "fr-input", "autocomplete": "bday", "inputmode": "numeric"},
        format="%d/%m/%Y",
    )


def _text(autocomplete: str, **attrs: Any) -> forms.TextInput:
    return forms.TextInput(attrs={"class": "fr-input", "autocomplete": autocomplete, **attrs})


def clean_birth_date(value: dt.date | None) -> dt.date | None:
    if value is None:
        return None
    if value > clock.today():
        raise forms.ValidationError(_("La date de naissance ne peut pas être dans le futur."))
    if value.year < 1890:
        raise forms.ValidationError(_("Vérifiez l'année de naissance."))
    return value


def clean_name(value: str) -> str:
    value = value.strip()
    if not _NAME.match(value):
        raise forms.ValidationError(
            _("Utilisez seulement des lettres, des espaces, des tirets et des apostrophes.")
        )
    return value


class IdentityForm(forms.Form):
    """NIR, birth date, sex and names; the NIR must agree with the birth date and sex."""

    nir = forms.CharField(
        label=_("Numéro de sécurité sociale (NIR)"),
        help_text=_("15 chiffres, clé comprise, tel qu'il figure sur votre carte Vitale."),
        max_length=40,
        widget=_text("off", inputmode="numeric", spellcheck="false"),
    )
    birth_date = forms.DateField(
        label=_("Date de naissance"),
        help_text=_("Format : jj/mm/aaaa"),
        input_formats=DATE_FORMATS,
        widget=_date_input(),
    )
    sex = forms.TypedChoiceField(
        label=_("Sexe (tel qu'inscrit à l'état civil)"),
        choices=SEXES,
        coerce=int,
        widget=forms.Select(attrs={"class": "fr-select"}),
    )
    last_name = forms.CharField(
        label=_("Nom de naissance"), max_length=100, widget=_text("family-name")
    )
    first_name = forms.CharField(label=_("Prénom"), max_length=100, widget=_text("given-name"))

    def clean_nir(self) -> str:
        try:
            return nir_rules.normalise(self.cleaned_data["nir"])
        except nir_rules.InvalidNir:
            value = re.sub(r"[\s.\-]", "", self.cleaned_data["nir"]).upper()
            if len(value) != 15:
                raise forms.ValidationError(
                    _(
                        "Le numéro de sécurité sociale compte 15 caractères : "
                        "13 chiffres et une clé de 2 chiffres."
                    )
                ) from None
            raise forms.ValidationError(
                _(
                    "Ce numéro de sécurité sociale n'est pas valide : "
                    "vérifiez sa clé (les 2 derniers chiffres)."
                )
            ) from None

    def clean_birth_date(self) -> dt.date | None:
        return clean_birth_date(self.cleaned_data.get("birth_date"))

    def clean_last_name(self) -> str:
        return clean_name(self.cleaned_data["last_name"])

    def clean_first_name(self) -> str:
        return clean_name(self.cleaned_data["first_name"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        nir, birth, sex = data.get("nir"), data.get("birth_date"), data.get("sex")
        if nir and birth and sex:
            # INSEE: digit 1 is the sex, digits 2-3 the year, 4-5 the month of birth
            # (months 20 and above are used when the month is unknown).
            if nir[0] in "12" and int(nir[0]) != sex:
                self.add_error("sex", _("Le sexe ne correspond pas au numéro de sécurité sociale."))
            month = int(nir[3:5])
            if int(nir[1:3]) != birth.year % 100 or (1 <= month <= 12 and month != birth.month):
                self.add_error(
                    "birth_date",
                    _("La date de naissance ne correspond pas au numéro de sécurité sociale."),
                )
        return data


class ObjectionForm(IdentityForm):
    PROVIDED = ("birth_date", "sex", "last_name", "first_name")

    def __init__(self, *args: Any, provider_identity: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if provider_identity:
            # Shown but not editable: the view puts the provider's values in the data.
            for name in self.PROVIDED:
                self.fields[name].disabled = True
                self.fields[name].help_text = _("Transmis par votre fournisseur d'identité.")

    # Honeypot: hidden from people (and from assistive technologies); bots fill it.
    website = forms.CharField(
        required=False,
        max_length=200,
        label=_("Ne pas remplir ce champ"),
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )
    confirm = forms.BooleanField(
        label=_(
            "Je m'oppose à l'utilisation de mes données de santé pour les projets de la plateforme."
        ),
        widget=forms.CheckboxInput(),
    )


class LookupForm(forms.Form):
    reference = forms.CharField(
        label=_("Référence"),
        help_text=_(
            "Telle qu'elle figure sur votre accusé de réception, par exemple OPP-7K2M9QX4TB."
        ),
        max_length=20,
        widget=_text("off", spellcheck="false"),
    )
    birth_date = forms.DateField(
        label=_("Date de naissance"),
        help_text=_("Format : jj/mm/aaaa"),
        input_formats=DATE_FORMATS,
        widget=_date_input(),
    )

    def clean_reference(self) -> str:
        value = self.cleaned_data["reference"].strip().upper()
        if not _REFERENCE.match(value):
            raise forms.ValidationError(_("Cette référence n'a pas la forme attendue."))
        return value

    def clean_birth_date(self) -> dt.date | None:
        return clean_birth_date(self.cleaned_data.get("birth_date"))


class RightsRequestForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Votre demande"),
        choices=RightsKind.choices,
        widget=forms.Select(attrs={"class": "fr-select"}),
    )
    message = forms.CharField(
        label=_("Votre message"),
        max_length=5000,
        widget=forms.Textarea(attrs={"class": "fr-input", "rows": 6}),
    )
    last_name = forms.CharField(
        label=_("Nom de naissance"), max_length=100, widget=_text("family-name")
    )
    first_name = forms.CharField(label=_("Prénom"), max_length=100, widget=_text("given-name"))
    birth_date = forms.DateField(
        label=_("Date de naissance"),
        help_text=_("Format : jj/mm/aaaa"),
        input_formats=DATE_FORMATS,
        widget=_date_input(),
    )
    email = forms.EmailField(
        label=_("Adresse électronique pour la réponse"),
        max_length=254,
        widget=forms.EmailInput(attrs={"class": "fr-input", "autocomplete": "email"}),
    )
    website = forms.CharField(
        required=False,
        max_length=200,
        label=_("Ne pas remplir ce champ"),
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def clean_birth_date(self) -> dt.date | None:
        return clean_birth_date(self.cleaned_data.get("birth_date"))

    def clean_last_name(self) -> str:
        return clean_name(self.cleaned_data["last_name"])

    def clean_first_name(self) -> str:
        return clean_name(self.cleaned_data["first_name"])

    def clean_message(self) -> str:
        value = self.cleaned_data["message"].strip()
        if not value:
            raise forms.ValidationError(_("Décrivez votre demande."))
        return value


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Réponse"),
        max_length=10000,
        widget=forms.Textarea(attrs={"class": "fr-input", "rows": 8}),
    )
