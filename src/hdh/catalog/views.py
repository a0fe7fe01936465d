"""Catalog pages. Public: every page checks ``CATALOG_VIEW``, which anyone holds."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from hdh.accounts.authorization import has_permission, permission_required
from hdh.catalog import hooks, pages
from hdh.catalog.export import dcat, formats
from hdh.catalog.forms import BaseForm, NewBaseForm
from hdh.catalog.models import Base
from hdh.catalog.search.query import FACETS
from hdh.catalog.search.query import search as run_search
from hdh.catalog.services.bases import create_base, update_base
from hdh.core.errors import ValidationFailed
from hdh.core.permissions import Permission

RESULTS_PER_PAGE = 20
MAX_PAGE = 50


def _page_number(request: HttpRequest) -> int:
    try:
        return min(max(int(request.GET.get("page", "1")), 1), MAX_PAGE)
    except ValueError:
        return 1


def _rdf(text: str, fmt: str) -> HttpResponse:
    response = HttpResponse(text, content_type=f"{dcat.FORMATS[fmt]}; charset=utf-8")
    response["Vary"] = "Accept"
    return response


@require_safe
@permission_required(Permission.CATALOG_VIEW)
def index(request: HttpRequest) -> HttpResponse:
    fmt = formats.negotiated_rdf(request)
    if fmt is not None:
        return _rdf(formats.export_dcat(slug=None, fmt=fmt), fmt)
    can_create = has_permission(request.user, Permission.CATALOG_EDIT, audit=False)
    response = render(
        request, "catalog/index.html", {"home": pages.home(), "can_create": can_create}
    )
    response["Vary"] = "Accept"
    return response


@require_safe
@permission_required(Permission.CATALOG_VIEW)
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    filters = {name: request.GET.get(name, "") for name in FACETS}
    number = _page_number(request)
    results = run_search(
        query, filters=filters, limit=RESULTS_PER_PAGE, offset=(number - 1) * RESULTS_PER_PAGE
    )
    return render(
        request,
        "catalog/search.html",
        {
            "results": results,
            "query": query,
            "filters": filters,
            "page_number": number,
            "has_next": results.total > number * RESULTS_PER_PAGE and number < MAX_PAGE,
        },
    )


@require_safe
@permission_required(Permission.CATALOG_VIEW)
def base(request: HttpRequest, slug: str) -> HttpResponse:
    fmt = formats.negotiated_rdf(request)
    if fmt is not None:
        return _rdf(formats.export_dcat(slug=slug, fmt=fmt), fmt)
    page = pages.base_page(slug)
    # Only decides whether to show the edit link; the edit view checks again.
    can_edit = has_permission(request.user, Permission.CATALOG_EDIT, obj=page.base, audit=False)
    response = render(
        request,
        "catalog/base.html",
        {
            "page": page,
            "schema_org": formats.schema_org_script(page.base),
            "can_edit": can_edit,
            "panels": hooks.base_panels(request, page.base),
        },
    )
    response["Vary"] = "Accept"
    return response


@require_safe
@permission_required(Permission.CATALOG_VIEW)
def data_package(request: HttpRequest, slug: str) -> HttpResponse:
    return HttpResponse(
        formats.export_data_package(slug=slug), content_type="application/json; charset=utf-8"
    )


@require_safe
@permission_required(Permission.CATALOG_VIEW)
def csvw(request: HttpRequest, slug: str) -> HttpResponse:
    fmt = "turtle" if request.GET.get("format") == "turtle" else "jsonld"
    return _rdf(formats.export_csvw(slug=slug, fmt=fmt), fmt)


@require_safe
@permission_required(Permission.CATALOG_VIEW)
def table(request: HttpRequest, slug: str, table: str) -> HttpResponse:
    page = pages.table_page(slug, table)
    panels = hooks.table_panels(request, page.base, page.table)
    return render(request, "catalog/table.html", {"page": page, "panels": panels})


@require_safe
@permission_required(Permission.CATALOG_VIEW)
def variable(request: HttpRequest, slug: str, table: str, variable: str) -> HttpResponse:
    page = pages.variable_page(slug, table, variable)
    panels = hooks.variable_panels(request, page.base, page.table, page.variable)
    return render(request, "catalog/variable.html", {"page": page, "panels": panels})


@require_safe
@permission_required(Permission.CATALOG_VIEW)
def code_list(request: HttpRequest, slug: str, name: str) -> HttpResponse:
    page = pages.code_list_page(
        slug, name, query=request.GET.get("q", ""), page=request.GET.get("page", "1")[:12]
    )
    return render(request, "catalog/code_list.html", {"page": page})


def _base_of(request: HttpRequest, slug: str) -> Base:
    return get_object_or_404(Base, slug=slug[:80])


@require_http_methods(["GET", "HEAD", "POST"])
@permission_required(Permission.CATALOG_EDIT)
def base_create(request: HttpRequest) -> HttpResponse:
    form = NewBaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            base = create_base(
                slug=form.cleaned_data["slug"],
                by=request.user,
                holder_organisation=getattr(request.user, "organisation", None),
                **form.values(),
            )
        except ValidationFailed as exc:
            form.add_error(None, "; ".join(exc.problems) or str(exc))
        else:
            return redirect(base)
    return render(request, "catalog/base_form.html", {"form": form, "base": None})


@require_http_methods(["GET", "HEAD", "POST"])
@permission_required(Permission.CATALOG_EDIT, get_object=_base_of)
def base_edit(request: HttpRequest, slug: str) -> HttpResponse:
    base = _base_of(request, slug)
    form = BaseForm(request.POST or None, instance=base)
    if request.method == "POST" and form.is_valid():
        try:
            base = update_base(base=Base.objects.get(pk=base.pk), by=request.user, **form.values())
        except ValidationFailed as exc:
            form.add_error(None, "; ".join(exc.problems) or str(exc))
        else:
            return redirect(base)
    return render(request, "catalog/base_form.html", {"form": form, "base": base})
