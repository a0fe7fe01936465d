from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hdh.accounts import totp

# Long enough for any real passphrase, short enough that hashing it costs nothing.
PASSWORD_MAX_LENGTH = 1024


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("Identifiant"),
        max_length=150,
        widget=forms.TextInput(
            attrs={
                "class": "fr-input",
                "autocomplete": "username",
                "autocapitalize": "none",
                "spellcheck": "false",
                "autofocus": True,
            }
        ),
    )
    password = forms.CharField(
        label=_("Mot de passe"),
        strip=False,
        max_length=PASSWORD_MAX_LENGTH,
        widget=forms.PasswordInput(attrs={"class": "fr-input", "autocomplete": "current-password"}),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code à 6 chiffres"),
        help_text=_("Le code affiché par votre application d'authentification."),
        max_length=16,
        widget=forms.TextInput(
            attrs={
                "class": "fr-input",
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
            }
        ),
    )

    def clean_code(self) -> str:
        code = totp.normalise_code(self.cleaned_data["code"])
        if code is None:
            raise forms.ValidationError(
                _("Saisissez les 6 chiffres du code, sans lettres."), code="malformed"
            )
        return code
