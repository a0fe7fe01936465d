"""Forms of the workspace pages. They parse input; the services decide and audit."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core import validators
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from hdh.access.forms import DsfrMixin
from hdh.workspace.models import SCRIPT_LIMIT, JobKind

SUFFIXES = {JobKind.PYTHON: ".py", JobKind.SQL: ".sql"}
NAME_LIMIT = 120


class ConsoleForm(DsfrMixin, forms.Form):
    """The console's one field. Length, NUL and statement rules are the console's to
    enforce, so that every query sent, even a refused one, is audited by the service."""

    sql = forms.CharField(
        label=_("Requête SQL"),
        strip=False,
        widget=forms.Textarea(
            attrs={"rows": 8, "spellcheck": "false", "autocomplete": "off", "class": "fr-text-mono"}
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["sql"]
        field.validators = [
            v
            for v in field.validators
            if not isinstance(v, validators.ProhibitNullCharactersValidator)
        ]


class JobForm(DsfrMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Langage"), choices=JobKind.choices, initial=JobKind.PYTHON)
    name = forms.CharField(
        label=_("Nom du script"),
        required=False,
        max_length=NAME_LIMIT,
        help_text=_(
            "Par exemple analyse.py ou comptages.sql ; "
            "repris du fichier envoyé si vous le laissez vide."
        ),
    )
    script = forms.CharField(
        label=_("Script"),
        required=False,
        strip=False,
        max_length=SCRIPT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 16, "spellcheck": "false", "class": "fr-text-mono"}),
    )
    upload = forms.FileField(
        label=_("… ou fichier du script (.py ou .sql, 200 Ko au plus)"),
        required=False,
    )

    def clean_upload(self) -> UploadedFile | None:
        upload: UploadedFile | None = self.cleaned_data.get("upload")
        if upload is None:
            return None
        if (upload.size or 0) > SCRIPT_LIMIT:
            raise forms.ValidationError(
                _("Le fichier dépasse %(kb)s Ko.") % {"kb": SCRIPT_LIMIT // 1000}
            )
        name = (upload.name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
        if not name.lower().endswith(tuple(SUFFIXES.values())):
            raise forms.ValidationError(_("Le fichier doit être un script .py ou .sql."))
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload: UploadedFile | None = data.get("upload")
        script: str = data.get("script") or ""
        if self.errors:
            return data
        if upload is not None and script.strip():
            raise forms.ValidationError(
                _("Collez le script ou envoyez un fichier, pas les deux."), code="both"
            )
        if upload is not None:
            raw = b"".join(upload.chunks())
            try:
                script = raw.decode("utf-8")
            except UnicodeDecodeError:
                self.add_error("upload", _("Le fichier n'est pas un texte UTF-8."))
                return data
            if not data.get("name"):
                data["name"] = (upload.name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
        if not script.strip():
            raise forms.ValidationError(_("Le script est vide."), code="empty")
        if "\x00" in script:
            raise forms.ValidationError(
                _("Le script contient un caractère nul."), code="null_characters_not_allowed"
            )
        kind = data.get("kind", JobKind.PYTHON)
        name = data.get("name") or f"script{SUFFIXES[JobKind(kind)]}"
        if len(name) > NAME_LIMIT:
            self.add_error("name", _("Le nom dépasse %(n)s caractères.") % {"n": NAME_LIMIT})
            return data
        if not name.lower().endswith(SUFFIXES[JobKind(kind)]):
            self.add_error(
                "name",
                _("Le nom d'un script %(kind)s se termine par %(suffix)s.")
                % {"kind": JobKind(kind).label, "suffix": SUFFIXES[JobKind(kind)]},
            )
            return data
        data["name"] = name
        data["script"] = script
        return data
