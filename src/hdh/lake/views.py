"""Lake pages: deposit form, deposit report, variable profile. Views parse, call one
service, render."""

from __future__ import annotations

import re

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from hdh.accounts.authorization import permission_required
from hdh.catalog.models import Base
from hdh.core.errors import NotAllowed, ValidationFailed
from hdh.core.permissions import Permission
from hdh.lake import policies, queries, uploads
from hdh.lake.forms import DepositForm
from hdh.lake.models import Deposit
from hdh.lake.services import ingest


@login_required
@require_http_methods(["GET", "POST"])
@permission_required(Permission.LAKE_DEPOSIT)
def deposit(request: HttpRequest) -> HttpResponse:
    form = DepositForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        with uploads.staged(form.cleaned_data["uploads"]) as files:
            try:
                result = ingest(
                    base=form.cleaned_data["base"],
                    table=form.cleaned_data["table"].strip(),
                    files=files,
                    by=request.user,
                )
            except NotAllowed as exc:
                raise PermissionDenied from exc
            except ValidationFailed:
                form.add_error(
                    "table", _("Cette table n'est pas décrite dans le dictionnaire de la base.")
                )
            else:
                return redirect("lake:deposit_report", reference=result.reference)
    return render(
        request,
        "lake/deposit.html",
        {"form": form, "deposits": queries.deposits_by(request.user, limit=10)},
    )


@login_required
@require_safe
def deposit_report(request: HttpRequest, reference: str) -> HttpResponse:
    item = get_object_or_404(Deposit.objects.select_related("base", "version"), reference=reference)
    if not policies.may_read_report(request.user, item):
        raise PermissionDenied
    return render(request, "lake/report.html", {"deposit": item})


@require_safe
@permission_required(Permission.CATALOG_VIEW)
def profile(request: HttpRequest, slug: str, table: str, variable: str) -> HttpResponse:
    stats = queries.latest_profile(base_slug=slug, table=table, variable=variable)
    context = {
        "slug": slug,
        "table": table,
        "variable": variable,
        "stats": stats,
        "bars": queries.bars(stats or {}),
    }
    return render(request, "lake/profile.html", context)


@require_safe
@permission_required(Permission.SYNTHETIC_DOWNLOAD)
def synthetic_sample(request: HttpRequest, slug: str, table: str, fmt: str) -> HttpResponse:
    """Synthetic rows of a catalogued table (``?lignes=``, 1,000 by default): code before access."""
    from hdh.synth import samples

    rows_asked = request.GET.get("lignes", str(samples.DEFAULT_ROWS))
    if not rows_asked.isascii() or not rows_asked.isdigit() or len(rows_asked) > 6:
        return HttpResponseBadRequest(_("Nombre de lignes invalide."))
    rows = int(rows_asked)
    if not 1 <= rows <= samples.MAX_ROWS or fmt not in samples.FORMATS:
        return HttpResponseBadRequest(_("Nombre de lignes invalide."))
    base = get_object_or_404(Base, slug=slug)
    try:
        content = samples.sample(base=base, table=table, rows=rows, fmt=fmt)
    except ValidationFailed as exc:
        raise Http404(str(exc)) from exc
    kind = "application/vnd.apache.parquet" if fmt == "parquet" else "text/csv; charset=utf-8"
    response = HttpResponse(content, content_type=kind)
    name = _SAFE_NAME.sub("_", table)[:100]
    response["Content-Disposition"] = f'attachment; filename="{name}-synthetique.{fmt}"'
    return response


_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")
