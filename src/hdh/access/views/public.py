"""The public directory of projects and the statistics of delays: no sign-in needed."""

from __future__ import annotations

import json

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from hdh.access import directory
from hdh.access.forms import DirectoryFilterForm
from hdh.access.models import Application
from hdh.accounts.authorization import has_permission
from hdh.core.permissions import Permission

PER_PAGE = 25
MAX_PAGE = 400
OPEN_DATA_LIMIT = 10000


def _public(request: HttpRequest) -> None:
    if not has_permission(request.user, Permission.DIRECTORY_VIEW):
        raise PermissionDenied


def _filters(request: HttpRequest) -> tuple[DirectoryFilterForm, dict[str, str]]:
    form = DirectoryFilterForm(request.GET or None)
    if form.is_bound and form.is_valid():
        return form, {k: v for k, v in form.cleaned_data.items() if v}
    return form, {}


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    _public(request)
    form, filters = _filters(request)
    found = directory.search(**filters)
    try:
        number = min(max(int(request.GET.get("page", "1")), 1), MAX_PAGE)
    except ValueError:
        number = 1
    page = Paginator(found, PER_PAGE).get_page(number)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "access/directory.html",
        {"form": form, "page": page, "count": page.paginator.count, "query": query.urlencode()},
    )


@require_safe
def project(request: HttpRequest, reference: str) -> HttpResponse:
    _public(request)
    application = directory.published().filter(project__reference=reference[:20]).first()
    if application is None:
        raise Http404
    return render(
        request,
        "access/directory_project.html",
        {"application": application, "record": directory.record(application)},
    )


@require_safe
def open_data_csv(request: HttpRequest) -> HttpResponse:
    _public(request)
    _, filters = _filters(request)
    body = directory.as_csv(directory.search(**filters)[:OPEN_DATA_LIMIT])
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="repertoire-projets.csv"'
    return response


@require_safe
def open_data_json(request: HttpRequest) -> HttpResponse:
    _public(request)
    _, filters = _filters(request)
    records = [directory.record(a) for a in directory.search(**filters)[:OPEN_DATA_LIMIT]]
    response = JsonResponse({"projects": records, "count": len(records)})
    response["Content-Disposition"] = 'attachment; filename="repertoire-projets.json"'
    return response


@require_safe
def statistics(request: HttpRequest) -> HttpResponse:
    _public(request)
    figures = directory.statistics()
    longest = max((f.p90_days or 0 for f in figures), default=0) or 1
    chart = directory.chart_spec(figures)
    return render(
        request,
        "access/statistics.html",
        {
            "figures": figures,
            "longest": longest,
            "chart": chart,
            "spec": json.dumps(chart, ensure_ascii=False, indent=1),
            "total": Application.objects.exclude(submitted_at__isnull=True).count(),
        },
    )
