"""The guichet's page for the question bank, and applicants' answers to a base's questions."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from hdh.access.models import QuestionVersion
from hdh.access.services import questions as bank
from hdh.access.views._common import acting, actor, application_for, done, signed_in
from hdh.accounts.authorization import has_permission
from hdh.catalog.models import Base
from hdh.core.errors import InvalidState, NotAllowed, ValidationFailed
from hdh.core.permissions import Permission


def _editor(request: HttpRequest) -> None:
    if not has_permission(request.user, bank.EDIT_QUESTIONS):
        raise PermissionDenied


@require_safe
@signed_in
def index(request: HttpRequest) -> HttpResponse:
    _editor(request)
    current = QuestionVersion.objects.filter(current=True).select_related("base")
    return render(
        request,
        "access/questions.html",
        {
            "core": [q for q in current if q.base_id is None],
            "extras": [q for q in current if q.base_id is not None],
            "history": QuestionVersion.objects.filter(current=False).order_by("key", "-version"),
            "bases": Base.objects.order_by("slug").only("pk", "slug", "acronym", "title"),
        },
    )


def _run(request: HttpRequest, action: object, success: str) -> HttpResponse:
    try:
        action()  # type: ignore[operator]
    except NotAllowed as exc:
        raise PermissionDenied from exc
    except (ValidationFailed, InvalidState) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, success)
    return redirect("access:questions")


@require_POST
@signed_in
def revise(request: HttpRequest, key: str) -> HttpResponse:
    _editor(request)
    return _run(
        request,
        lambda: bank.revise(
            by=actor(request),
            key=key[:60],
            label=str(request.POST.get("label", "")),
            help_text=str(request.POST.get("help_text", "")),
            required=request.POST.get("required") == "on",
        ),
        _("Nouvelle version de la question enregistrée."),
    )


@require_POST
@signed_in
def add(request: HttpRequest) -> HttpResponse:
    _editor(request)
    slug = str(request.POST.get("base", ""))[:80]
    base = Base.objects.filter(slug=slug).first()
    if base is None:
        messages.error(request, _("Base inconnue."))
        return redirect("access:questions")
    return _run(
        request,
        lambda: bank.add_base_question(
            by=actor(request),
            base=base,
            label=str(request.POST.get("label", "")),
            help_text=str(request.POST.get("help_text", "")),
            required=request.POST.get("required") == "on",
        ),
        _("Question ajoutée."),
    )


@require_POST
@signed_in
def retire(request: HttpRequest, key: str) -> HttpResponse:
    _editor(request)
    return _run(
        request, lambda: bank.retire(by=actor(request), key=key[:60]), _("Question retirée.")
    )


@require_POST
@signed_in
@acting
def answer(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_for(request, pk, Permission.APPLICATION_EDIT)
    bank.answer_extra(
        by=actor(request),
        application=application,
        key=str(request.POST.get("key", ""))[:60],
        text=str(request.POST.get("text", "")),
    )
    return done(request, application, _("Réponse enregistrée."))
