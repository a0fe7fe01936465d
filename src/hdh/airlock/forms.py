"""Forms of the airlock pages; they only parse input, services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hdh.airlock.models import TEXT_LIMIT
from hdh.airlock.states import FileKind, Visibility, Vote

MAX_ID = 2**62


class GroupForm(forms.Form):
    name = forms.CharField(label=_("Groupe"), max_length=100)
    context = forms.CharField(
        label=_("Contexte : ce que montrent ces fichiers, population, période"),
        max_length=TEXT_LIMIT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    controls = forms.CharField(
        label=_("Contrôles appliqués : seuils, masquage, arrondi"),
        max_length=TEXT_LIMIT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class AddFileForm(forms.Form):
    output = forms.IntegerField(min_value=1, max_value=MAX_ID, widget=forms.HiddenInput)
    group = forms.CharField(label=_("Groupe"), max_length=100, initial="résultats")
    kind = forms.ChoiceField(label=_("Nature"), choices=FileKind.choices, initial=FileKind.OUTPUT)


class CommentForm(forms.Form):
    text = forms.CharField(
        label=_("Commentaire"), max_length=TEXT_LIMIT, widget=forms.Textarea(attrs={"rows": 3})
    )
    visibility = forms.ChoiceField(
        label=_("Visibilité"), choices=Visibility.choices, initial=Visibility.PUBLIC
    )
    file = forms.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, widget=forms.HiddenInput
    )
    group = forms.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, widget=forms.HiddenInput
    )


class VoteForm(forms.Form):
    decision = forms.ChoiceField(label=_("Avis"), choices=Vote.choices)


class KindForm(forms.Form):
    kind = forms.ChoiceField(label=_("Nature"), choices=FileKind.choices)


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif du refus (public)"),
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
