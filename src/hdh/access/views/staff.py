"""The staff's pages: admissibility, reviewers, opinions, decision, contract, the clock."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from hdh.access import queries
from hdh.access.forms import (
    AssignForm,
    CommitteeForm,
    DecisionForm,
    InterestsForm,
    NoteForm,
    OpinionForm,
)
from hdh.access.services import decisions, reviews
from hdh.access.views._common import (
    acting,
    actor,
    application_for,
    done,
    invalid_form,
    signed_in,
)
from hdh.accounts.authorization import has_permission
from hdh.accounts.models import User
from hdh.core.errors import ValidationFailed
from hdh.core.permissions import Permission

P = Permission


@require_POST
@signed_in
@acting
def take_up(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_for(request, pk, P.APPLICATION_ADMISSIBILITY)
    reviews.take_up(by=actor(request), application=application)
    return done(request, application, _("Demande prise en charge."))


@require_POST
@signed_in
@acting
def admissibility(request: HttpRequest, pk: int) -> HttpResponse:
    """Accept, return to the applicant with a message, or declare inadmissible."""
    application = application_for(request, pk, P.APPLICATION_ADMISSIBILITY)
    choice = request.POST.get("decision", "")
    by = actor(request)
    if choice == "accept":
        reviews.accept(by=by, application=application)
        return done(request, application, _("Demande déclarée recevable."))
    form = NoteForm(request.POST)
    if not form.is_valid():
        return invalid_form(request, application, form)
    text = form.cleaned_data["text"]
    if choice == "return":
        reviews.return_to_applicant(by=by, application=application, message=text)
        return done(request, application, _("Demande renvoyée au demandeur."))
    if choice == "inadmissible":
        reviews.declare_inadmissible(by=by, application=application, rationale=text)
        return done(request, application, _("Demande déclarée irrecevable."))
    raise ValidationFailed(_("Choix inconnu."), ["decision"])


@require_POST
@signed_in
@acting
def assign(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_for(request, pk, P.APPLICATION_ADMISSIBILITY)
    form = AssignForm(request.POST)
    if not form.is_valid():
        return invalid_form(request, application, form)
    reviewer = User.objects.filter(pk=form.cleaned_data["reviewer"], is_active=True).first()
    if reviewer is None:
        raise ValidationFailed(_("Ce compte n'existe pas."), ["reviewer"])
    reviews.assign_reviewer(
        by=actor(request),
        application=application,
        reviewer=reviewer,
        chair=form.cleaned_data["chair"],
    )
    return done(request, application, _("Rapporteur désigné."))


@require_POST
@signed_in
@acting
def interests(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_for(request, pk, P.APPLICATION_VIEW)
    form = InterestsForm(request.POST)
    if not form.is_valid():
        return invalid_form(request, application, form)
    reviews.declare_interests(
        by=actor(request),
        application=application,
        has_conflict=form.cleaned_data["has_conflict"],
        statement=form.cleaned_data["statement"],
    )
    return done(request, application, _("Déclaration d'intérêts enregistrée."))


@require_POST
@signed_in
@acting
def opinion(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_for(request, pk, P.APPLICATION_REVIEW)
    form = OpinionForm(request.POST)
    if not form.is_valid():
        return invalid_form(request, application, form)
    reviews.give_opinion(by=actor(request), application=application, **form.cleaned_data)
    return done(request, application, _("Vote enregistré."))


@require_POST
@signed_in
@acting
def committee(request: HttpRequest, pk: int) -> HttpResponse:
    # The chair or the guichet officer: the service checks which.
    application = application_for(request, pk, P.APPLICATION_VIEW)
    form = CommitteeForm(request.POST)
    if not form.is_valid():
        return invalid_form(request, application, form)
    reviews.committee_opinion(by=actor(request), application=application, **form.cleaned_data)
    return done(request, application, _("Avis du comité rendu."))


@require_POST
@signed_in
@acting
def request_information(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_for(request, pk, P.APPLICATION_REVIEW)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return invalid_form(request, application, form)
    reviews.request_information(
        by=actor(request),
        application=application,
        message=form.cleaned_data["text"],
    )
    return done(request, application, _("Compléments demandés au demandeur."))


@require_POST
@signed_in
@acting
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_for(request, pk, P.APPLICATION_DECIDE)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return invalid_form(request, application, form)
    decisions.decide(by=actor(request), application=application, **form.cleaned_data)
    return done(request, application, _("Décision enregistrée."))


@require_POST
@signed_in
@acting
def extend(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_for(request, pk, P.APPLICATION_DECIDE)
    decisions.extend_decision_deadline(by=actor(request), application=application)
    return done(request, application, _("Délai de décision prolongé."))


@require_POST
@signed_in
@acting
def contract(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_for(request, pk, P.APPLICATION_CONTRACT)
    decisions.sign_contract(by=actor(request), application=application)
    return done(request, application, _("Convention enregistrée."))


_LIFECYCLE = {
    "preparation": (decisions.start_preparation, P.PREPARATION_RUN),
    "workspace": (decisions.open_workspace, P.PREPARATION_RUN),
    "close": (decisions.close, P.APPLICATION_CONTRACT),
}


@require_POST
@signed_in
@acting
def lifecycle(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    if step not in _LIFECYCLE:
        raise Http404
    service, perm = _LIFECYCLE[step]
    application = application_for(request, pk, perm)
    service(by=actor(request), application=application)
    return done(request, application, _("Étape enregistrée."))


@require_safe
@signed_in
def overdue(request: HttpRequest) -> HttpResponse:
    """Every file past its stage's deadline, and every running clock."""
    if not has_permission(request.user, P.APPLICATION_VIEW):
        raise PermissionDenied
    return render(
        request,
        "access/overdue.html",
        {
            "overdue": queries.overdue(),
            "running": queries.running()[:200],
            "perms_questions": has_permission(
                request.user, P.APPLICATION_ADMISSIBILITY, audit=False
            ),
        },
    )
