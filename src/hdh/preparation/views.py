"""The data engineer's pages: permits to prepare, plans, runs, datasets.

Each view finds its object, checks the permission on it, calls one service and
renders; service errors become messages on the page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST, require_safe

from hdh.access.models import Permit
from hdh.accounts.authorization import has_permission
from hdh.core.errors import InvalidState, NotAllowed, ValidationFailed
from hdh.core.permissions import Permission
from hdh.preparation import linkages, queries, services, tasks, uploads
from hdh.preparation.forms import LinkageForm, PlanForm
from hdh.preparation.models import ExtractionPlan, LinkageRun, PreparationRun, ProjectDataset
from hdh.preparation.plan import POTENTIAL_CATEGORIES, Plan

MAX_ID = 2**62
M = TypeVar("M", bound=Model)
View = Callable[..., HttpResponseBase]


def signed_in(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper


def _get(model: type[M], pk: int, request: HttpRequest, perm: Permission) -> M:
    if pk > MAX_ID:
        raise Http404
    found = model._default_manager.filter(pk=pk).first()
    if found is None:
        raise Http404
    if not has_permission(request.user, perm, found):
        raise PermissionDenied
    return found


def _acting(request: HttpRequest, target: str, action: Callable[[], Any], ok: str) -> Any:
    try:
        result = action()
    except (ValidationFailed, InvalidState) as exc:
        messages.error(request, str(exc))
        return redirect(target)
    except NotAllowed:
        raise PermissionDenied from None
    messages.success(request, ok)
    return result


@require_safe
@signed_in
def index(request: HttpRequest) -> HttpResponse:
    if not has_permission(request.user, Permission.PREPARATION_VIEW):
        raise PermissionDenied
    return render(request, "preparation/index.html", {"rows": queries.permits_for(request.user)})


def _permit_context(permit: Permit, **extra: Any) -> dict[str, Any]:
    return {
        "permit": permit,
        "plans": ExtractionPlan.objects.filter(permit=permit),
        "runs": PreparationRun.objects.filter(plan__permit=permit)[:20],
        "datasets": ProjectDataset.objects.filter(permit=permit),
        "linkages": LinkageRun.objects.filter(permit=permit)[:20],
        "linkage_source": linkages.current_dataset(permit),
        "linkage_form": extra.pop("linkage_form", None) or LinkageForm(),
        "linkage_max_mb": max(1, uploads.max_bytes() // (1024 * 1024)),
        **extra,
    }


@require_safe
@signed_in
def permit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    permit = _get(Permit, pk, request, Permission.PREPARATION_VIEW)
    return render(request, "preparation/permit.html", _permit_context(permit))


@require_POST
@signed_in
def create_plan(request: HttpRequest, pk: int) -> HttpResponseBase:
    permit = _get(Permit, pk, request, Permission.PREPARATION_RUN)
    target = f"/preparation/autorisations/{permit.pk}/"
    plan = _acting(
        request,
        target,
        lambda: services.create_plan(permit=permit, by=request.user),
        _("Plan d'extraction compilé à partir de l'autorisation."),
    )
    if not isinstance(plan, ExtractionPlan):
        return plan
    return redirect("preparation:plan", pk=plan.pk)


def _plan_context(plan: ExtractionPlan, form: PlanForm | None = None) -> dict[str, Any]:
    spec = Plan.from_json(plan.spec)
    if form is None:
        form = PlanForm(
            initial={
                "sex": spec.population.sex or "",
                "birth_year_min": spec.population.birth_year_min,
                "birth_year_max": spec.population.birth_year_max,
                "departments": " ".join(spec.population.departments),
                "icd10": " ".join(spec.population.icd10),
                "dates": spec.options.dates,
                "shift_days": spec.options.shift_days,
                "potential_override": spec.potential_override,
            }
        )
    return {
        "plan": plan,
        "spec": spec,
        "form": form,
        "problems": spec.problems(),
        "categories": [str(POTENTIAL_CATEGORIES[c]) for c in spec.potential_categories()],
        "permit": plan.permit,
    }


@signed_in
def plan_detail(request: HttpRequest, pk: int) -> HttpResponseBase:
    if request.method not in {"GET", "HEAD", "POST"}:
        return HttpResponse(status=405)
    plan = _get(ExtractionPlan, pk, request, Permission.PREPARATION_VIEW)
    if request.method != "POST":
        return render(request, "preparation/plan.html", _plan_context(plan))
    if not has_permission(request.user, Permission.PREPARATION_RUN, plan):
        raise PermissionDenied
    form = PlanForm(request.POST)
    if not form.is_valid():
        return render(request, "preparation/plan.html", _plan_context(plan, form), status=400)
    data = form.cleaned_data
    spec = Plan.from_json(plan.spec)
    period_columns = {}
    for table in spec.tables:
        value = request.POST.get(f"period-{table.table}")
        if value is not None:
            period_columns[table.table] = value[:128] or None
    result = _acting(
        request,
        f"/preparation/plans/{plan.pk}/",
        lambda: services.update_plan(
            plan=plan,
            by=request.user,
            period_columns=period_columns,
            population={
                "sex": data["sex"],
                "birth_year_min": data["birth_year_min"],
                "birth_year_max": data["birth_year_max"],
                "departments": data["departments"],
                "icd10": data["icd10"],
            },
            dates=data["dates"],
            shift_days=data["shift_days"],
            potential_override=data["potential_override"],
        ),
        _("Plan mis à jour."),
    )
    if not isinstance(result, ExtractionPlan):
        return result
    return redirect("preparation:plan", pk=plan.pk)


@require_POST
@signed_in
def approve_plan(request: HttpRequest, pk: int) -> HttpResponseBase:
    plan = _get(ExtractionPlan, pk, request, Permission.PREPARATION_RUN)
    _acting(
        request,
        f"/preparation/plans/{plan.pk}/",
        lambda: services.approve_plan(plan=plan, by=request.user),
        _("Plan approuvé."),
    )
    return redirect("preparation:plan", pk=plan.pk)


@require_POST
@signed_in
def start_run(request: HttpRequest, pk: int) -> HttpResponseBase:
    plan = _get(ExtractionPlan, pk, request, Permission.PREPARATION_RUN)

    def start() -> PreparationRun:
        run = services.start_run(plan=plan, by=request.user)
        tasks.enqueue(run)
        return run

    run = _acting(request, f"/preparation/plans/{plan.pk}/", start, _("Préparation lancée."))
    if not isinstance(run, PreparationRun):
        return run
    return redirect("preparation:run", pk=run.pk)


@require_POST
@signed_in
def open_workspace(request: HttpRequest, pk: int) -> HttpResponseBase:
    plan = _get(ExtractionPlan, pk, request, Permission.PREPARATION_RUN)
    _acting(
        request,
        f"/preparation/autorisations/{plan.permit_id}/",
        lambda: services.open_workspace(plan=plan, by=request.user),
        _("Espace projet ouvert."),
    )
    return redirect("preparation:permit", pk=plan.permit_id)


@require_safe
@signed_in
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = _get(PreparationRun, pk, request, Permission.PREPARATION_VIEW)
    return render(request, "preparation/run.html", {"run": run})


@require_safe
@signed_in
def run_progress(request: HttpRequest, pk: int) -> HttpResponse:
    run = _get(PreparationRun, pk, request, Permission.PREPARATION_VIEW)
    return render(request, "preparation/includes/progress.html", {"run": run, "polled": True})


@require_POST
@signed_in
def cancel_run(request: HttpRequest, pk: int) -> HttpResponseBase:
    run = _get(PreparationRun, pk, request, Permission.PREPARATION_RUN)
    _acting(
        request,
        f"/preparation/executions/{run.pk}/",
        lambda: services.cancel_run(run=run, by=request.user),
        _("Annulation demandée."),
    )
    return redirect("preparation:run", pk=run.pk)


@require_safe
@signed_in
def dataset_detail(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = _get(ProjectDataset, pk, request, Permission.PREPARATION_VIEW)
    return render(
        request,
        "preparation/dataset.html",
        {"dataset": dataset, "problems": services.verify_dataset(dataset)},
    )


# --- cohort linkage ----------------------------------------------------------------
@csrf_exempt  # checked by _receive_cohort once the size cap is in place
@require_POST
@signed_in
def request_linkage(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Upload a cohort file: permission first, then the body is read under a size cap."""
    permit = _get(Permit, pk, request, Permission.PREPARATION_RUN)
    limit = uploads.max_bytes()
    if uploads.body_too_large(request, limit):
        # Refused before the body is read: nothing changes, so no token to check.
        return _linkage_refused(
            request, permit, linkages.refuse_too_large(permit=permit, by=request.user), status=413
        )
    cap = uploads.SizeCap(request, limit=limit)
    # Before anything reads request.POST: the CSRF check below included.
    request.upload_handlers = [cap, *request.upload_handlers]
    response: HttpResponseBase = _receive_cohort(request, permit, cap)
    return response


@csrf_protect
def _receive_cohort(request: HttpRequest, permit: Permit, cap: uploads.SizeCap) -> HttpResponseBase:
    form = LinkageForm(request.POST)
    if cap.exceeded:
        error = linkages.refuse_too_large(permit=permit, by=request.user)
        return _linkage_refused(request, permit, error, form=form, status=413)
    files = request.FILES.getlist("cohort")
    if len(files) != 1:
        error = ValidationFailed(_("Déposez un seul fichier de cohorte (CSV)."), ["cohort"])
        return _linkage_refused(request, permit, error, form=form)
    if not form.is_valid():
        error = ValidationFailed(_("Paramètres d'appariement invalides."), [])
        return _linkage_refused(request, permit, error, form=form)
    upload = files[0]
    try:
        run = linkages.request_linkage(
            permit=permit,
            chunks=upload.chunks(),
            name=str(upload.name or ""),
            threshold=float(form.cleaned_data["threshold"]),
            engine=str(form.cleaned_data["engine"]),
            by=request.user,
        )
    except ValidationFailed as exc:
        return _linkage_refused(request, permit, exc, form=form)
    except InvalidState as exc:
        messages.error(request, str(exc))
        return redirect("preparation:permit", pk=permit.pk)
    except NotAllowed:
        raise PermissionDenied from None
    finally:
        upload.close()
    tasks.enqueue_linkage(run)
    messages.success(request, _("Fichier accepté : appariement lancé."))
    return redirect("preparation:linkage", pk=run.pk)


def _linkage_refused(
    request: HttpRequest,
    permit: Permit,
    error: ValidationFailed,
    *,
    form: LinkageForm | None = None,
    status: int = 400,
) -> HttpResponse:
    context = _permit_context(
        permit, linkage_form=form, linkage_error=str(error), linkage_problems=error.problems
    )
    return render(request, "preparation/permit.html", context, status=status)


@require_safe
@signed_in
def linkage_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = _get(LinkageRun, pk, request, Permission.PREPARATION_VIEW)
    return render(request, "preparation/linkage.html", queries.linkage_report(run))


@require_safe
@signed_in
def linkage_status(request: HttpRequest, pk: int) -> HttpResponse:
    run = _get(LinkageRun, pk, request, Permission.PREPARATION_VIEW)
    return render(request, "preparation/includes/linkage_status.html", {"run": run, "polled": True})
