"""The airlock's pages: the project side prepares and follows requests, checkers review.

Views are thin: they find the objects, ask ``has_permission``, call one service
and render. Nothing unreleased leaves as a download: files under review are
shown inline (tables as HTML, text escaped, images as ``data:`` URIs); the only
file response is a released file, served after re-checking its SHA-256.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from hdh.accounts.authorization import has_permission
from hdh.accounts.models import User
from hdh.airlock import policies, review, screening, services, storage, workflow
from hdh.airlock.forms import (
    MAX_ID,
    AddFileForm,
    CommentForm,
    GroupForm,
    KindForm,
    RejectForm,
    VoteForm,
)
from hdh.airlock.models import FileGroup, ReleasedFile, ReleaseRequest, RequestFile
from hdh.airlock.states import (
    EDITABLE_STATES,
    UNDER_REVIEW,
    CheckStatus,
    FileDecision,
    FileKind,
    State,
)
from hdh.core import actions
from hdh.core.errors import InvalidState, ValidationFailed
from hdh.core.permissions import Permission
from hdh.workspace.models import Output, Workspace

View = Callable[..., HttpResponseBase]
P = Permission


@dataclass
class Seen:
    """A request as one person sees it: from the checkers' side or the project's."""

    request: ReleaseRequest
    user: User
    checker: bool


def _user(request: HttpRequest) -> User:
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


def signed_in(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper


def _see(http: HttpRequest, pk: int) -> Seen:
    """The request ``pk`` if the user may see it; 404 otherwise (the refusal is audited)."""
    if pk > MAX_ID:
        raise Http404
    found = (
        ReleaseRequest.objects.select_related("workspace__permit", "requested_by")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404
    user = _user(http)
    if has_permission(user, P.RELEASE_REVIEW, found, audit=False):
        return Seen(found, user, checker=True)
    if has_permission(user, P.RELEASE_REQUEST, found, audit=False) or has_permission(
        user, P.RELEASE_DOWNLOAD, found, audit=False
    ):
        return Seen(found, user, checker=False)
    has_permission(user, P.RELEASE_REQUEST, found)  # records the denial
    raise Http404


def _file(seen: Seen, file_pk: int) -> RequestFile:
    if file_pk > MAX_ID:
        raise Http404
    file = RequestFile.objects.filter(pk=file_pk, request=seen.request).first()
    if file is None:
        raise Http404
    return file


def _error_page(
    http: HttpRequest, pk: int, error: str, problems: list[str], status: int
) -> HttpResponseBase:
    return _detail(http, _see(http, pk), status=status, error=error, problems=problems)


# Turn the services' typed errors into the request's page with the error shown.
acting = actions.acting(_error_page)


def _invalid(form: Any) -> ValidationFailed:
    return ValidationFailed(_("Saisie invalide."), actions.form_problems(form))


def _done(http: HttpRequest, seen: Seen, text: str, anchor: str = "") -> HttpResponse:
    messages.success(http, text)
    return redirect(seen.request.get_absolute_url() + anchor)


# --- Lists ------------------------------------------------------------------------


def _member_workspaces(user: User) -> list[Workspace]:
    return [
        workspace
        for workspace in Workspace.objects.select_related("permit").order_by("reference")
        if user.pk in workspace.permit.member_ids()
    ]


@require_safe
@signed_in
def index(http: HttpRequest) -> HttpResponse:
    """My projects' release requests; checkers find their queue here too."""
    user = _user(http)
    workspaces = _member_workspaces(user)
    requests = ReleaseRequest.objects.filter(workspace__in=workspaces).select_related("workspace")
    return render(
        http,
        "airlock/index.html",
        {
            "workspaces": workspaces,
            "requests": requests,
            "is_checker": has_permission(user, P.RELEASE_REVIEW, audit=False),
        },
    )


@require_safe
@signed_in
def queue(http: HttpRequest) -> HttpResponse:
    """Requests waiting for checkers, except those of projects the checker is part of."""
    user = _user(http)
    if not has_permission(user, P.RELEASE_REVIEW):
        raise PermissionDenied
    candidates = ReleaseRequest.objects.filter(
        state__in=[*UNDER_REVIEW, State.APPROVED]
    ).select_related("workspace__permit")
    rows = []
    for item in candidates.order_by("submitted_at", "id"):
        if not has_permission(user, P.RELEASE_REVIEW, item, audit=False):
            continue
        rows.append({"request": item, "reviewed": review.has_reviewed(item, user)})
    recent = [
        item
        for item in ReleaseRequest.objects.filter(
            state__in=[State.RETURNED, State.RELEASED, State.REJECTED]
        ).order_by("-decided_at")[:20]
        if has_permission(user, P.RELEASE_REVIEW, item, audit=False)
    ]
    return render(http, "airlock/queue.html", {"rows": rows, "recent": recent})


@require_http_methods(["GET", "POST"])
@signed_in
def workspace(http: HttpRequest, workspace_pk: int) -> HttpResponse:
    """A workspace's requests; a member opens a new one here."""
    if workspace_pk > MAX_ID:
        raise Http404
    space = Workspace.objects.select_related("permit").filter(pk=workspace_pk).first()
    if space is None:
        raise Http404
    user = _user(http)
    if not has_permission(user, P.RELEASE_REQUEST, space):
        raise Http404
    error = ""
    if http.method == "POST":
        try:
            created = services.create_request(by=user, workspace=space)
        except (InvalidState, ValidationFailed) as exc:
            error = str(exc)
        else:
            return redirect(created.get_absolute_url())
    return render(
        http,
        "airlock/workspace.html",
        {
            "workspace": space,
            "requests": ReleaseRequest.objects.filter(workspace=space),
            "active": services.active_request(space),
            "error": error,
        },
        status=409 if error else 200,
    )


# --- One request -----------------------------------------------------------------


def _file_rows(seen: Seen, decided: dict[int, str], blind: bool) -> list[dict[str, Any]]:
    votes = review.visible_votes(seen.request, seen.user, checker=seen.checker)
    rows = []
    for file in seen.request.files.select_related("group", "released").order_by(
        "group__name", "name"
    ):
        mine = next(
            (v for v in votes if v.file_id == file.pk and v.checker_id == seen.user.pk), None
        )
        rows.append(
            {
                "file": file,
                "group": file.group,
                "own_vote": mine,
                "votes": [v for v in votes if v.file_id == file.pk],
                "decision": FileDecision(decided[file.pk]).label
                if (seen.checker and not blind and file.pk in decided)
                else None,
                "released": getattr(file, "released", None)
                if seen.request.state == State.RELEASED
                else None,
            }
        )
    return rows


def _detail(
    http: HttpRequest,
    seen: Seen,
    *,
    status: int = 200,
    error: str = "",
    problems: list[str] | None = None,
) -> HttpResponse:
    request = seen.request
    blind = review.blinded(request)
    decided = {pk: str(d) for pk, d in review.decisions(request).items()}
    editable = (
        not seen.checker
        and request.state in EDITABLE_STATES
        and has_permission(seen.user, P.RELEASE_REQUEST, request, audit=False)
    )
    addable: list[Output] = []
    if editable:
        taken = set(request.files.values_list("name", flat=True))
        addable = [
            output
            for output in Output.objects.filter(
                workspace=request.workspace, superseded_at__isnull=True
            ).order_by("name")
            if output.name not in taken
        ]
    replaceable = set()
    if editable:
        for file in request.files.all():
            newest = Output.objects.filter(
                workspace=request.workspace, name=file.name, superseded_at__isnull=True
            ).first()
            if newest is not None and newest.sha256 != file.sha256:
                replaceable.add(file.pk)
    context = {
        "req": request,
        "seen": seen,
        "files": _file_rows(seen, decided, blind),
        "groups": request.groups.all(),
        "comments": review.visible_comments(request, seen.user, checker=seen.checker),
        "history": request.history.select_related("by"),
        "moves": {t.name for t in workflow.available(request, seen.user)},
        "blind": blind,
        "reviewed": review.has_reviewed(request, seen.user),
        "reviewers": len(review.reviewers(request)),
        "editable": editable,
        "addable": addable,
        "replaceable": replaceable,
        "missing": policies.submission_problems(request) if editable else [],
        "under_review": request.state in UNDER_REVIEW,
        "error": error,
        "problems": problems or [],
        "forms": {
            "group": GroupForm(auto_id="group-%s"),
            "add": AddFileForm(auto_id="add-%s"),
            "comment": CommentForm(auto_id="comment-%s"),
            "reject": RejectForm(auto_id="reject-%s"),
        },
    }
    return render(http, "airlock/detail.html", context, status=status)


@require_safe
@signed_in
def detail(http: HttpRequest, pk: int) -> HttpResponse:
    return _detail(http, _see(http, pk))


def _inline(seen: Seen, file: RequestFile) -> dict[str, Any]:
    """What the page shows of the file's content (never a link to its bytes)."""
    suffix = screening.extension(file.name)
    unreadable = any(f.get("rule") in ("type", "content") for f in file.checks.get("findings", []))
    if unreadable or suffix in screening.TABLE_TYPES:
        return {}
    data = services.read_for_review(by=seen.user, file=file)
    if suffix == ".png":
        return {"image": "data:image/png;base64," + base64.b64encode(data).decode("ascii")}
    return {"text": data.decode("utf-8-sig", errors="replace")}


@require_safe
@signed_in
def file_page(http: HttpRequest, pk: int, file_pk: int) -> HttpResponse:
    """The review page of one file: its checks cell by cell, votes, comments."""
    seen = _see(http, pk)
    file = _file(seen, file_pk)
    votes = [
        v
        for v in review.visible_votes(seen.request, seen.user, checker=seen.checker)
        if v.file_id == file.pk
    ]
    context = {
        "req": seen.request,
        "seen": seen,
        "file": file,
        "checks": file.checks,
        "inline": _inline(seen, file)
        if file.check_status != CheckStatus.BLOCKED or not seen.checker
        else {},
        "votes": votes,
        "own_vote": next((v for v in votes if v.checker_id == seen.user.pk), None),
        "may_vote": seen.checker
        and file.kind == FileKind.OUTPUT
        and seen.request.state in UNDER_REVIEW
        and not review.has_reviewed(seen.request, seen.user),
        "comments": [
            c
            for c in review.visible_comments(seen.request, seen.user, checker=seen.checker)
            if c.file_id == file.pk
        ],
        "vote_form": VoteForm(auto_id="vote-%s"),
        "comment_form": CommentForm(auto_id="comment-%s", initial={"file": file.pk}),
        "may_comment": seen.request.state not in (State.RELEASED, State.REJECTED, State.WITHDRAWN)
        and (not seen.checker or seen.request.state in UNDER_REVIEW),
    }
    return render(http, "airlock/file.html", context)


@require_safe
@signed_in
def results_page(http: HttpRequest, pk: int, file_pk: int) -> HttpResponse:
    """The file's ACRO-compatible ``results.json``, shown in the page."""
    seen = _see(http, pk)
    file = _file(seen, file_pk)
    text = json.dumps(file.results, ensure_ascii=False, indent=2) if file.results else ""
    return render(http, "airlock/results.html", {"req": seen.request, "file": file, "text": text})


# --- The project's actions -------------------------------------------------------


@require_POST
@signed_in
@acting
def add_file(http: HttpRequest, pk: int) -> HttpResponse:
    seen = _see(http, pk)
    form = AddFileForm(http.POST)
    if not form.is_valid():
        raise _invalid(form)
    output = Output.objects.filter(
        pk=form.cleaned_data["output"], workspace=seen.request.workspace
    ).first()
    if output is None:
        raise Http404
    services.add_file(
        by=seen.user,
        request=seen.request,
        output=output,
        group=form.cleaned_data["group"],
        kind=form.cleaned_data["kind"],
    )
    return _done(http, seen, _("Fichier ajouté et contrôlé."))


@require_POST
@signed_in
@acting
def save_group(http: HttpRequest, pk: int) -> HttpResponse:
    seen = _see(http, pk)
    form = GroupForm(http.POST)
    if not form.is_valid():
        raise _invalid(form)
    services.save_group(by=seen.user, request=seen.request, **form.cleaned_data)
    return _done(http, seen, _("Groupe enregistré."))


@require_POST
@signed_in
@acting
def replace_file(http: HttpRequest, pk: int, file_pk: int) -> HttpResponse:
    seen = _see(http, pk)
    services.replace_file(by=seen.user, file=_file(seen, file_pk))
    return _done(
        http, seen, _("Fichier remplacé par sa nouvelle version ; ses avis repartent de zéro.")
    )


@require_POST
@signed_in
@acting
def remove_file(http: HttpRequest, pk: int, file_pk: int) -> HttpResponse:
    seen = _see(http, pk)
    services.remove_file(by=seen.user, file=_file(seen, file_pk))
    return _done(http, seen, _("Fichier retiré de la demande."))


@require_POST
@signed_in
@acting
def change_kind(http: HttpRequest, pk: int, file_pk: int) -> HttpResponse:
    seen = _see(http, pk)
    form = KindForm(http.POST)
    if not form.is_valid():
        raise _invalid(form)
    services.change_kind(by=seen.user, file=_file(seen, file_pk), kind=form.cleaned_data["kind"])
    return _done(http, seen, _("Nature du fichier modifiée."))


@require_POST
@signed_in
@acting
def submit(http: HttpRequest, pk: int) -> HttpResponse:
    seen = _see(http, pk)
    services.submit(by=seen.user, request=seen.request)
    return _done(http, seen, _("Demande soumise aux contrôleurs."))


@require_POST
@signed_in
@acting
def withdraw(http: HttpRequest, pk: int) -> HttpResponse:
    seen = _see(http, pk)
    services.withdraw(by=seen.user, request=seen.request)
    return _done(http, seen, _("Demande retirée."))


@require_POST
@signed_in
@acting
def add_comment(http: HttpRequest, pk: int) -> HttpResponse:
    seen = _see(http, pk)
    form = CommentForm(http.POST)
    if not form.is_valid():
        raise _invalid(form)
    file = _file(seen, form.cleaned_data["file"]) if form.cleaned_data.get("file") else None
    group = None
    if form.cleaned_data.get("group"):
        group = FileGroup.objects.filter(
            pk=form.cleaned_data["group"], request=seen.request
        ).first()
        if group is None:
            raise Http404
    services.comment(
        by=seen.user,
        request=seen.request,
        text=form.cleaned_data["text"],
        visibility=form.cleaned_data["visibility"],
        file=file,
        group=group,
    )
    messages.success(http, _("Commentaire enregistré."))
    if file is not None:
        return redirect("airlock:file", pk=seen.request.pk, file_pk=file.pk)
    return redirect(seen.request.get_absolute_url() + "#commentaires")


# --- The checkers' actions -------------------------------------------------------


@require_POST
@signed_in
@acting
def vote(http: HttpRequest, pk: int, file_pk: int) -> HttpResponse:
    seen = _see(http, pk)
    file = _file(seen, file_pk)
    form = VoteForm(http.POST)
    if not form.is_valid():
        raise _invalid(form)
    services.vote(by=seen.user, file=file, decision=form.cleaned_data["decision"])
    messages.success(http, _("Avis enregistré."))
    return redirect("airlock:file", pk=seen.request.pk, file_pk=file.pk)


@require_POST
@signed_in
@acting
def submit_review(http: HttpRequest, pk: int) -> HttpResponse:
    seen = _see(http, pk)
    services.submit_review(by=seen.user, request=seen.request)
    return _done(http, seen, _("Examen soumis."))


@require_POST
@signed_in
@acting
def approve(http: HttpRequest, pk: int) -> HttpResponse:
    seen = _see(http, pk)
    try:
        services.approve(by=seen.user, request=seen.request)
    except (storage.CorruptFile, OSError):
        seen.request.refresh_from_db()
        return _detail(
            http,
            seen,
            status=503,
            error=_(
                "Sortie approuvée, mais la copie des fichiers a échoué : l'exploitant doit "
                "relancer « hdh airlock release-approved »."
            ),
        )
    return _done(http, seen, _("Sortie approuvée : les fichiers sont disponibles pour le projet."))


@require_POST
@signed_in
@acting
def return_request(http: HttpRequest, pk: int) -> HttpResponse:
    seen = _see(http, pk)
    services.return_to_requester(by=seen.user, request=seen.request)
    return _done(http, seen, _("Demande renvoyée au demandeur."))


@require_POST
@signed_in
@acting
def reject(http: HttpRequest, pk: int) -> HttpResponse:
    seen = _see(http, pk)
    form = RejectForm(http.POST)
    if not form.is_valid():
        raise _invalid(form)
    services.reject(by=seen.user, request=seen.request, reason=form.cleaned_data["reason"])
    return _done(http, seen, _("Sortie refusée."))


# --- Released files --------------------------------------------------------------


@require_safe
@signed_in
def download(http: HttpRequest, pk: int, file_pk: int) -> HttpResponse:
    """A released file, for the project's members only. Anything else is a 404."""
    if pk > MAX_ID or file_pk > MAX_ID:
        raise Http404
    released = (
        ReleasedFile.objects.select_related("file__request__workspace__permit")
        .filter(file_id=file_pk, file__request_id=pk, file__kind=FileKind.OUTPUT)
        .first()
    )
    if released is None or released.file.request.state != State.RELEASED:
        raise Http404
    user = _user(http)
    if not has_permission(user, P.RELEASE_DOWNLOAD, released):
        raise Http404
    try:
        data = services.open_released(by=user, released=released)
    except storage.CorruptFile:
        return HttpResponse(
            _("Le fichier sorti ne correspond plus à son empreinte : il n'est pas servi."),
            status=409,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(data, content_type=released.file.media_type)
    name = screening.safe_name(released.file.name)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-SHA256"] = released.sha256
    return response
