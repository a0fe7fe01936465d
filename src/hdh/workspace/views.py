"""The project members' pages: their workspaces, the SQL console, jobs and outputs.

Every view finds the workspace by its reference through the services, which
check the permission on it; anyone who may not see it gets 404, so a page never
reveals that a project exists (the denial is audited). Nothing here returns a
file: outputs are shown inside the page and leave only through the airlock.

Live parts follow htmx's contract: a request carrying ``HX-Request: true`` gets
the fragment, any other request the whole page, so every page works without
JavaScript.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from hdh.accounts.authorization import has_permission
from hdh.core.errors import InvalidState, NotAllowed, ValidationFailed
from hdh.core.permissions import Permission
from hdh.workspace import access, policies, queries, services
from hdh.workspace.forms import ConsoleForm, JobForm
from hdh.workspace.models import Job, Output, Workspace

View = Callable[..., HttpResponseBase]
MAX_ID = 2**62
JOBS_SHOWN = 20
# How the workspace's own audit trail names its events on the dashboard.
EVENT_LABELS = {
    "workspace.opened": _lazy("Ouverture de l'espace"),
    "workspace.query": _lazy("Requête dans la console"),
    "workspace.job_submitted": _lazy("Traitement soumis"),
    "workspace.job_started": _lazy("Traitement démarré"),
    "workspace.job_finished": _lazy("Traitement terminé"),
    "workspace.job_cancel_requested": _lazy("Annulation demandée"),
    "workspace.job_cancelled": _lazy("Traitement annulé"),
    "workspace.job_refused": _lazy("Traitement refusé"),
    "workspace.output_viewed": _lazy("Sortie consultée"),
    "workspace.read_only": _lazy("Passage en lecture seule"),
    "workspace.archived": _lazy("Archivage"),
    "permission.denied": _lazy("Accès refusé"),
}


class _NotReady(Exception):
    """A member's workspace that cannot open yet (its data is not prepared)."""


def member_page(view: View) -> View:
    """Anonymous visitors go to the login page, anyone without a passed second factor
    to it, and a member whose workspace is not ready yet to the list."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        second_factor = access.second_factor_redirect(request)
        if second_factor is not None:
            return second_factor
        try:
            return view(request, *args, **kwargs)
        except _NotReady as exc:
            messages.error(request, str(exc))
            return redirect("workspace:index")

    return wrapper


def _is_fragment(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _workspace(request: HttpRequest, ref: str) -> Workspace:
    """The workspace ``ref`` if the user may see it (opened on a member's first visit);
    404 for anyone else and for a reference that names nothing."""
    try:
        return services.workspace_by_reference(reference=ref, by=request.user)
    except NotAllowed:
        raise Http404 from None
    except InvalidState as exc:
        raise _NotReady(str(exc)) from None


def _job(request: HttpRequest, ref: str, number: int) -> Job:
    workspace = _workspace(request, ref)
    if number > MAX_ID:
        raise Http404
    job = (
        Job.objects.select_related("submitted_by", "rerun_of", "dataset")
        .filter(workspace=workspace, number=number)
        .first()
    )
    if job is None:
        raise Http404
    job.workspace = workspace
    if not has_permission(request.user, Permission.WORKSPACE_ACCESS, job):
        raise Http404
    return job


def _variable_url(base: str, table: str, variable: str) -> str:
    try:
        return reverse(
            "catalog:variable", kwargs={"slug": base, "table": table, "variable": variable}
        )
    except NoReverseMatch:
        return ""


def _dataset_tables(dataset: Any) -> list[dict[str, Any]]:
    """Each table of the dataset with its columns, types and catalog documentation links."""
    if dataset is None:
        return []
    manifest = dataset.manifest or {}
    plan = manifest.get("plan") or {}
    base = str(plan.get("base") or "")
    planned = {str(t.get("table")): t for t in plan.get("tables") or [] if isinstance(t, dict)}
    tables = []
    for entry in manifest.get("tables") or []:
        name = str(entry.get("table", ""))
        table_plan = planned.get(name, {})
        types = table_plan.get("types") or {}
        documented = set(table_plan.get("columns") or [])
        columns = [
            {
                "name": column,
                "type": types.get(column, ""),
                "url": _variable_url(base, name, column) if base and column in documented else "",
            }
            for column in entry.get("columns") or []
        ]
        tables.append({"name": name, "rows": entry.get("rows"), "columns": columns})
    return tables


def _common(workspace: Workspace) -> dict[str, Any]:
    return {
        "workspace": workspace,
        "state": workspace.effective_state(),
        # Why the console and job forms are disabled ("" while the workspace is open).
        "closed_reason": policies.closed_reason(workspace) or "",
    }


def _add_service_error(form: forms.Form, exc: ValidationFailed | InvalidState) -> None:
    """Attach a service's refusal to the field it names, or to the whole form."""
    problems = getattr(exc, "problems", None) or []
    field = problems[0] if problems and problems[0] in form.fields else None
    form.add_error(field, str(exc))


@require_safe
@member_page
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "workspace/index.html", {"rows": queries.workspaces_of(request.user)})


@require_safe
@member_page
def dashboard(request: HttpRequest, ref: str) -> HttpResponse:
    workspace = _workspace(request, ref)
    dataset = queries.current_dataset(workspace)
    return render(
        request,
        "workspace/dashboard.html",
        {
            **_common(workspace),
            "dataset": dataset,
            "tables": _dataset_tables(dataset),
            "jobs": queries.jobs_of(workspace)[:JOBS_SHOWN],
            "outputs": queries.outputs_of(workspace),
            "events": [
                (event, EVENT_LABELS.get(event.action, event.action))
                for event in queries.audit_trail(workspace)
            ],
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
@member_page
def console(request: HttpRequest, ref: str) -> HttpResponse:
    workspace = _workspace(request, ref)
    result = None
    refusal = ""
    form = ConsoleForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            try:
                result = services.run_console_query(
                    workspace=workspace, sql=form.cleaned_data["sql"], by=request.user
                )
            except (ValidationFailed, InvalidState) as exc:
                refusal = str(exc)
            except NotAllowed:
                raise Http404 from None
        else:
            refusal = " ".join(str(e) for errors in form.errors.values() for e in errors)
    context = {
        **_common(workspace),
        "form": form,
        "result": result,
        "result_columns": list(zip(result.columns, result.types, strict=False)) if result else [],
        "refusal": refusal,
    }
    if request.method == "POST" and _is_fragment(request):
        return render(request, "workspace/includes/console_result.html", context)
    dataset = queries.current_dataset(workspace)
    context.update({"dataset": dataset, "tables": _dataset_tables(dataset)})
    return render(request, "workspace/console.html", context)


@require_safe
@member_page
def jobs(request: HttpRequest, ref: str) -> HttpResponse:
    workspace = _workspace(request, ref)
    return render(
        request, "workspace/jobs.html", {**_common(workspace), "jobs": queries.jobs_of(workspace)}
    )


@require_http_methods(["GET", "HEAD", "POST"])
@member_page
def new_job(request: HttpRequest, ref: str) -> HttpResponseBase:
    workspace = _workspace(request, ref)
    if request.method != "POST":
        return render(request, "workspace/job_new.html", {**_common(workspace), "form": JobForm()})
    form = JobForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            job = services.submit_job(
                workspace=workspace,
                kind=form.cleaned_data["kind"],
                name=form.cleaned_data["name"],
                script=form.cleaned_data["script"],
                by=request.user,
            )
        except (ValidationFailed, InvalidState) as exc:
            _add_service_error(form, exc)
        except NotAllowed:
            raise Http404 from None
        else:
            messages.success(request, _("Traitement soumis."))
            return redirect("workspace:job", ref=workspace.reference, number=job.number)
    return render(
        request, "workspace/job_new.html", {**_common(workspace), "form": form}, status=400
    )


def _job_context(job: Job) -> dict[str, Any]:
    return {
        **_common(job.workspace),
        "job": job,
        "log": queries.job_log(job),
        "outputs": job.outputs.select_related("job").order_by("name"),
    }


@require_safe
@member_page
def job_detail(request: HttpRequest, ref: str, number: int) -> HttpResponse:
    job = _job(request, ref, number)
    return render(request, "workspace/job.html", _job_context(job))


@require_safe
@member_page
def job_status(request: HttpRequest, ref: str, number: int) -> HttpResponse:
    job = _job(request, ref, number)
    return render(
        request, "workspace/includes/job_status.html", {**_job_context(job), "polled": True}
    )


@require_POST
@member_page
def cancel_job(request: HttpRequest, ref: str, number: int) -> HttpResponseBase:
    job = _job(request, ref, number)
    try:
        services.cancel_job(job=job, by=request.user)
    except (ValidationFailed, InvalidState) as exc:
        messages.error(request, str(exc))
    except NotAllowed:
        raise Http404 from None
    else:
        messages.success(request, _("Annulation demandée."))
    return redirect("workspace:job", ref=job.workspace.reference, number=job.number)


@require_POST
@member_page
def rerun_job(request: HttpRequest, ref: str, number: int) -> HttpResponseBase:
    job = _job(request, ref, number)
    try:
        rerun = services.rerun_job(job=job, by=request.user)
    except (ValidationFailed, InvalidState) as exc:
        messages.error(request, str(exc))
        return redirect("workspace:job", ref=job.workspace.reference, number=job.number)
    except NotAllowed:
        raise Http404 from None
    messages.success(request, _("Traitement relancé."))
    return redirect("workspace:job", ref=job.workspace.reference, number=rerun.number)


@require_safe
@member_page
def output_detail(request: HttpRequest, ref: str, pk: int) -> HttpResponse:
    workspace = _workspace(request, ref)
    if pk > MAX_ID:
        raise Http404
    output = Output.objects.select_related("job").filter(workspace=workspace, pk=pk).first()
    if output is None:
        raise Http404
    output.workspace = workspace
    try:
        shown = services.output_preview(output=output, by=request.user)
    except NotAllowed:
        raise Http404 from None
    return render(
        request,
        "workspace/output.html",
        {**_common(workspace), "output": output, "preview": shown.preview},
    )
