"""What every page of the guichet shares: finding the file, checking, turning errors."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from hdh.access import committee, policies, questions, workflow
from hdh.access.forms import (
    AssignForm,
    CommitteeForm,
    DecisionForm,
    InterestsForm,
    MessageForm,
    NoteForm,
    OpinionForm,
    PublicationForm,
)
from hdh.access.models import Application, Review
from hdh.access.permissions import may_view
from hdh.access.services import publications as publication_services
from hdh.access.services.applications import LIVE_STATES
from hdh.access.states import State
from hdh.accounts.authorization import has_permission
from hdh.accounts.models import User
from hdh.core import actions
from hdh.core.permissions import Permission, Role

View = Callable[..., HttpResponseBase]
# The form's questions a message may be about, in the order of the form.
QUESTIONS = (
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
    "population_criteria",
)

MAX_ID = 2**62


def application_for(request: HttpRequest, pk: int, perm: Permission) -> Application:
    """The application ``pk`` if the user may ``perm`` on it; 404 if it does not exist."""
    if pk > MAX_ID:
        raise Http404
    application = Application.objects.select_related("project").filter(pk=pk).first()
    if application is None:
        raise Http404
    if perm == Permission.APPLICATION_VIEW:
        allowed = may_view(request.user, application)
    else:
        allowed = has_permission(request.user, perm, application)
    if not allowed:
        raise PermissionDenied
    return application


def actor(request: HttpRequest) -> User:
    """The signed-in person acting (views are wrapped in ``signed_in``)."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


def signed_in(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper


def _error_page(
    request: HttpRequest, pk: int, error: str, problems: list[str], status: int
) -> HttpResponseBase:
    application = application_for(request, pk, Permission.APPLICATION_VIEW)
    return render_detail(request, application, status=status, error=error, problems=problems)


# Turn the services' typed errors into the file's page with the error shown.
acting = actions.acting(_error_page)


def done(request: HttpRequest, application: Application, text: str) -> HttpResponse:
    messages.success(request, text)
    return redirect(application.get_absolute_url())


def invalid_form(request: HttpRequest, application: Application, form: Any) -> HttpResponse:
    problems = actions.form_problems(form)
    return render_detail(
        request, application, status=422, error=_("Saisie invalide."), problems=problems
    )


def _may(user: Any, perm: Permission, application: Application) -> bool:
    return has_permission(user, perm, application, audit=False)


def render_detail(
    request: HttpRequest,
    application: Application,
    *,
    status: int = 200,
    error: str = "",
    problems: list[str] | None = None,
) -> HttpResponse:
    user = request.user
    state = application.state
    can_edit = _may(user, Permission.APPLICATION_EDIT, application)
    is_staff_view = any(
        _may(user, perm, application)
        for perm in (
            Permission.APPLICATION_ADMISSIBILITY,
            Permission.APPLICATION_REVIEW,
            Permission.APPLICATION_DECIDE,
        )
    )
    own_review = Review.objects.filter(application=application, reviewer_id=user.pk).first()
    reviewers: list[User] = []
    if state == State.SCIENTIFIC_REVIEW and _may(
        user, Permission.APPLICATION_ADMISSIBILITY, application
    ):
        assigned = application.reviews.values_list("reviewer_id", flat=True)
        reviewers = [
            u
            for u in User.objects.filter(
                role_assignments__role=Role.COMMITTEE_MEMBER, is_active=True
            ).exclude(pk__in=assigned)
            if _may(u, Permission.APPLICATION_REVIEW, application)
        ]
    counted = committee.tally(application) if state == State.SCIENTIFIC_REVIEW else None
    chair = committee.chair_of(application) if counted is not None else None
    may_record_opinion = counted is not None and (
        _may(user, Permission.APPLICATION_ADMISSIBILITY, application)
        or (chair is not None and chair.reviewer_id == user.pk)
    )
    extras = questions.extra_answers(application)
    outdated = {q.key for q in questions.outdated_answers(application)}
    context = {
        "extra_questions": [
            {"question": q, "answer": extras.get(q.key), "outdated": q.key in outdated}
            for q in questions.for_application(application)
        ],
        "publications": application.project.publications.all(),
        "may_publish": application.submitted_at is not None
        and publication_services.may_manage(user, application.project),
        "tally": counted if is_staff_view else None,
        "votes_needed": committee.votes_needed(counted) if counted is not None else 0,
        "quorum_reached": counted is not None and committee.quorum_reached(counted),
        "chair": chair if is_staff_view else None,
        "may_record_opinion": may_record_opinion,
        "application": application,
        "project": application.project,
        "team": application.team.select_related("user"),
        "perimeter": application.perimeter.select_related("base", "table", "variable"),
        "history": application.history.select_related("by"),
        "thread": application.messages.select_related("author"),
        "opinion": policies.latest_opinion(application),
        "decision": policies.latest_decision(application),
        "permit": getattr(application, "permit", None),
        "reviews": application.reviews.select_related("reviewer") if is_staff_view else [],
        "own_review": own_review,
        "reviewers": reviewers,
        "actions": {t.name for t in workflow.available(application, user)},
        "can_edit": can_edit and state in policies.EDITABLE_STATES,
        "can_withdraw": can_edit and (state, State.WITHDRAWN) in workflow.TRANSITIONS,
        "can_amend": can_edit and state in LIVE_STATES,
        "missing": (
            policies.completeness_problems(application) if state in policies.EDITABLE_STATES else []
        ),
        "is_staff_view": is_staff_view,
        "error": error,
        "problems": problems or [],
        "forms": {
            "message": MessageForm(auto_id="message-%s"),
            "note": NoteForm(auto_id="note-%s"),
            "assign": AssignForm(auto_id="assign-%s"),
            "interests": InterestsForm(auto_id="interests-%s"),
            "opinion": OpinionForm(auto_id="opinion-%s"),
            "committee": CommitteeForm(auto_id="committee-%s"),
            "decision": DecisionForm(auto_id="decision-%s"),
            "publication": PublicationForm(auto_id="publication-%s"),
        },
        "questions": [
            (name, getattr(Application._meta.get_field(name), "verbose_name", name))
            for name in QUESTIONS
        ],
    }
    return render(request, "access/detail.html", context, status=status)


__all__ = [
    "acting",
    "application_for",
    "done",
    "invalid_form",
    "render",
    "render_detail",
    "signed_in",
]
