"""Forms of the guichet's pages. They parse input; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from hdh.access import questions
from hdh.access.models import Application, DecisionOutcome, OpinionOutcome, PublicationKind
from hdh.access.models.messages import MESSAGE_LIMIT
from hdh.access.states import LegalRoute, State
from hdh.core.permissions import PROJECT_ROLES, ProjectRole

TEXT = 10000


class DsfrMixin:
    """Give every widget the DSFR class it needs."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():  # type: ignore[attr-defined]
            widget = field.widget
            if isinstance(widget, forms.Select):
                css = "fr-select"
            elif isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple):
                continue
            elif isinstance(widget, forms.ClearableFileInput):
                css = "fr-upload"
            else:
                css = "fr-input"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()


class CreateForm(DsfrMixin, forms.Form):
    title = forms.CharField(label=_("Titre du projet"), max_length=300)
    legal_route = forms.ChoiceField(label=_("Voie d'accès"), choices=LegalRoute.choices)


class ApplicationForm(DsfrMixin, forms.ModelForm):
    class Meta:
        model = Application
        fields = [
            "title",
            "lay_summary",
            "technical_summary",
            "purpose",
            "public_interest",
            "controller_name",
            "implementer_name",
            "funding",
            "declarations_of_interest",
            "linkages",
            "expected_outputs",
            "duration_months",
            "processing_location",
            "period_start",
            "period_end",
            "population_criteria",
        ]
        widgets = {
            "period_start": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "period_end": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            **{
                name: forms.Textarea(attrs={"rows": 4})
                for name in (
                    "lay_summary",
                    "technical_summary",
                    "purpose",
                    "public_interest",
                    "funding",
                    "declarations_of_interest",
                    "linkages",
                    "expected_outputs",
                    "population_criteria",
                )
            },
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            # A draft saves as you go: completeness is checked when it is submitted.
            field.required = False
        bank = questions.by_key()
        for key, field in self.fields.items():
            question = bank.get(key)
            if question is not None:
                field.label = questions.shown(question.label)
                field.help_text = questions.shown(question.help_text)
        self.fields["title"].required = True
        self.fields["duration_months"].widget.attrs.update({"min": 1, "max": 240})
        self.fields["duration_months"].validators.append(_duration_limit)

    def _post_clean(self) -> None:
        # The service validates the model; the form must not touch the instance.
        pass


def _duration_limit(value: int | None) -> None:
    if value is not None and not 1 <= value <= 240:
        raise forms.ValidationError(_("Entre 1 et 240 mois."))


class ProtocolForm(DsfrMixin, forms.Form):
    protocol = forms.FileField(label=_("Protocole (PDF, 20 Mo au plus)"))


class PerimeterForm(DsfrMixin, forms.Form):
    base = forms.CharField(max_length=80, widget=forms.HiddenInput)
    table = forms.CharField(max_length=128, required=False, widget=forms.HiddenInput)
    variables = forms.MultipleChoiceField(
        label=_("Variables"), required=False, widget=forms.CheckboxSelectMultiple
    )
    justification = forms.CharField(
        label=_("Justification"),
        max_length=2000,
        help_text=_("Pourquoi ces données sont nécessaires à la finalité du projet."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, variable_names: list[str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        variables = self.fields["variables"]
        assert isinstance(variables, forms.MultipleChoiceField)
        variables.choices = [(n, n) for n in variable_names or []]


class MemberForm(DsfrMixin, forms.Form):
    username = forms.CharField(label=_("Identifiant ou adresse électronique"), max_length=254)
    role = forms.ChoiceField(
        label=_("Rôle dans le projet"),
        choices=[(role.value, PROJECT_ROLES[role].label) for role in ProjectRole],
    )


class MessageForm(DsfrMixin, forms.Form):
    body = forms.CharField(
        label=_("Message"), max_length=MESSAGE_LIMIT, widget=forms.Textarea(attrs={"rows": 3})
    )


class NoteForm(DsfrMixin, forms.Form):
    """A message or rationale that the action requires."""

    text = forms.CharField(
        label=_("Motivation"), max_length=TEXT, widget=forms.Textarea(attrs={"rows": 3})
    )


class OptionalNoteForm(DsfrMixin, forms.Form):
    text = forms.CharField(
        label=_("Commentaire"),
        max_length=TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AssignForm(DsfrMixin, forms.Form):
    reviewer = forms.IntegerField(label=_("Rapporteur"), min_value=1, max_value=2**62)
    chair = forms.BooleanField(label=_("Préside l'examen de ce dossier"), required=False)


class InterestsForm(DsfrMixin, forms.Form):
    has_conflict = forms.TypedChoiceField(
        label=_("Avez-vous un lien d'intérêts avec ce projet ou son équipe ?"),
        choices=[("no", _("Non")), ("yes", _("Oui"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    statement = forms.CharField(
        label=_("Déclaration"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class OpinionForm(DsfrMixin, forms.Form):
    opinion = forms.ChoiceField(label=_("Avis"), choices=OpinionOutcome.choices)
    rationale = forms.CharField(
        label=_("Motivation"), max_length=TEXT, widget=forms.Textarea(attrs={"rows": 3})
    )


class CommitteeForm(DsfrMixin, forms.Form):
    outcome = forms.ChoiceField(label=_("Avis du comité"), choices=OpinionOutcome.choices)
    rationale = forms.CharField(
        label=_("Motivation"), max_length=TEXT, widget=forms.Textarea(attrs={"rows": 3})
    )
    recommendations = forms.CharField(
        label=_("Recommandations"),
        max_length=TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DecisionForm(DsfrMixin, forms.Form):
    outcome = forms.ChoiceField(label=_("Décision"), choices=DecisionOutcome.choices)
    rationale = forms.CharField(
        label=_("Motivation"), max_length=TEXT, widget=forms.Textarea(attrs={"rows": 3})
    )
    conditions = forms.CharField(
        label=_("Conditions"),
        max_length=TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    end_date = forms.DateField(
        label=_("Fin de l'autorisation"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class DirectoryFilterForm(DsfrMixin, forms.Form):
    q = forms.CharField(label=_("Rechercher"), max_length=200, required=False)
    route = forms.ChoiceField(
        label=_("Voie d'accès"), choices=[("", _("Toutes")), *LegalRoute.choices], required=False
    )
    state = forms.ChoiceField(
        label=_("État"),
        required=False,
        choices=[("", _("Tous")), *[(s.value, s.label) for s in State if s != State.DRAFT]],
    )
    base = forms.CharField(label=_("Base"), max_length=80, required=False)


class PublicationForm(DsfrMixin, forms.Form):
    title = forms.CharField(label=_("Titre"), max_length=500)
    kind = forms.ChoiceField(label=_("Nature"), choices=PublicationKind.choices)
    published_on = forms.DateField(
        label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    url = forms.CharField(label=_("Adresse (URL)"), max_length=500, required=False)
    doi = forms.CharField(label=_("DOI"), max_length=200, required=False)
