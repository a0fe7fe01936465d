"""Public pages of the citizens' portal and the staff inbox of rights requests.

Views parse input, call one service, render. Nothing typed by a citizen is
logged: errors name the field, never its value.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from hdh.access import directory
from hdh.accounts.authorization import has_permission
from hdh.catalog.models import Base
from hdh.citizens import figures, oidc, services, throttle
from hdh.citizens.forms import AnswerForm, LookupForm, ObjectionForm, RightsRequestForm
from hdh.citizens.models import RightsRequest, RightsStatus
from hdh.core import clock
from hdh.core.errors import HdhError
from hdh.core.permissions import Permission
from hdh.preparation.models import ObjectionEntry

_RECEIPT = "citizens_receipt"


def _public(request: HttpRequest) -> None:
    if not has_permission(request.user, Permission.DIRECTORY_VIEW):
        raise PermissionDenied


def _ensure_session(request: HttpRequest) -> None:
    if not request.session.session_key:
        request.session["citizens"] = True
        request.session.save()


def _too_many(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    context["throttled"] = True
    return render(request, template, context, status=429)


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    _public(request)
    return render(request, "citizens/index.html", {"totals": figures.totals()})


@require_safe
def protection(request: HttpRequest) -> HttpResponse:
    _public(request)
    return render(request, "citizens/protection.html")


@require_safe
def dpo(request: HttpRequest) -> HttpResponse:
    _public(request)
    return render(
        request,
        "citizens/dpo.html",
        {
            "name": settings.HDH_DPO_NAME,
            "email": settings.HDH_DPO_EMAIL,
            "address": settings.HDH_DPO_ADDRESS,
        },
    )


@require_safe
def report(request: HttpRequest) -> HttpResponse:
    _public(request)
    rows = figures.years()
    labels = {
        "filed": _("déposés"),
        "authorised": _("autorisés"),
        "refused": _("refusés"),
    }
    return render(
        request,
        "citizens/report.html",
        {
            "years": rows,
            "totals": figures.totals(),
            "chart": figures.chart_spec(rows, labels),
            "stages": directory.statistics(),
        },
    )


@require_safe
def bases(request: HttpRequest) -> HttpResponse:
    _public(request)
    return render(request, "citizens/bases.html", {"rows": figures.projects_per_base()})


@require_safe
def base(request: HttpRequest, slug: str) -> HttpResponse:
    _public(request)
    found = get_object_or_404(Base, slug=slug[:100])
    return render(
        request,
        "citizens/base.html",
        {"base": found, "applications": figures.projects_using(found)},
    )


# --- Objections ---------------------------------------------------------------------


def _objection_form(request: HttpRequest) -> ObjectionForm:
    """The form; with a provider identity, its fields override whatever was posted."""
    identity = request.session.get(oidc.SESSION_KEY)
    if request.method != "POST":
        return ObjectionForm(initial=identity or None, provider_identity=bool(identity))
    # Disabled fields take their initial value whatever was posted.
    return ObjectionForm(request.POST, initial=identity or None, provider_identity=bool(identity))


@never_cache
@require_http_methods(["GET", "POST"])
def objection(request: HttpRequest) -> HttpResponse:
    _public(request)
    _ensure_session(request)
    form = _objection_form(request)
    context: dict[str, Any] = {
        "form": form,
        "oidc": oidc.configured(),
        "signed_in": bool(request.session.get(oidc.SESSION_KEY)),
    }
    if request.method == "POST":
        if not throttle.allow(request, "objection"):
            return _too_many(request, "citizens/objection.html", context)
        if form.is_valid():
            if form.cleaned_data["website"]:
                # A bot filled the hidden field: answer as if refused, keep nothing.
                form.add_error(None, _("Votre demande n'a pas pu être enregistrée."))
                return render(request, "citizens/objection.html", context, status=400)
            try:
                entry = services.file_objection(
                    nir=form.cleaned_data["nir"],
                    birth_date=form.cleaned_data["birth_date"],
                    sex=form.cleaned_data["sex"],
                    by=request.user,
                )
            except HdhError:
                form.add_error(None, _("Votre opposition n'a pas pu être enregistrée."))
            else:
                request.session.pop(oidc.SESSION_KEY, None)
                request.session[_RECEIPT] = entry.reference
                return redirect("citizens:objection_receipt")
        return render(request, "citizens/objection.html", context, status=400)
    return render(request, "citizens/objection.html", context)


@never_cache
@require_safe
def oidc_login(request: HttpRequest) -> HttpResponse:
    _public(request)
    if not oidc.configured():
        raise Http404
    return oidc.start(request, request.build_absolute_uri(reverse("citizens:oidc_callback")))


@never_cache
@require_safe
def oidc_callback(request: HttpRequest) -> HttpResponse:
    _public(request)
    if not oidc.configured():
        raise Http404
    try:
        identity = oidc.finish(request)
    except HdhError:
        return render(request, "citizens/oidc_failed.html", status=400)
    request.session[oidc.SESSION_KEY] = identity
    return redirect("citizens:objection")


@never_cache
@require_safe
def objection_receipt(request: HttpRequest) -> HttpResponse:
    _public(request)
    reference = request.session.get(_RECEIPT)
    if not reference:
        return redirect("citizens:objection")
    entry = ObjectionEntry.objects.filter(reference=reference).first()
    if entry is None:
        raise Http404
    return render(request, "citizens/objection_receipt.html", {"entry": entry})


@never_cache
@require_http_methods(["GET", "POST"])
def objection_status(request: HttpRequest) -> HttpResponse:
    _public(request)
    _ensure_session(request)
    form = LookupForm(request.POST or None)
    context: dict[str, Any] = {"form": form, "entry": None}
    if request.method == "POST":
        if not throttle.allow(request, "lookup"):
            return _too_many(request, "citizens/objection_status.html", context)
        if form.is_valid():
            entry = services.find_objection(
                reference=form.cleaned_data["reference"],
                birth_date=form.cleaned_data["birth_date"],
            )
            if entry is None:
                form.add_error(
                    None, _("Aucune opposition ne correspond à cette référence et cette date.")
                )
            elif request.POST.get("action") == "withdraw" and entry.withdrawn_at is None:
                try:
                    entry = services.withdraw_objection(
                        reference=form.cleaned_data["reference"],
                        birth_date=form.cleaned_data["birth_date"],
                        by=request.user,
                    )
                except HdhError:
                    form.add_error(None, _("Cette opposition ne peut pas être retirée."))
                else:
                    context["withdrawn"] = True
            context["entry"] = entry
        status = 200 if context["entry"] is not None else 400
        return render(request, "citizens/objection_status.html", context, status=status)
    return render(request, "citizens/objection_status.html", context)


# --- Rights requests ----------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def rights(request: HttpRequest) -> HttpResponse:
    _public(request)
    _ensure_session(request)
    form = RightsRequestForm(request.POST or None)
    context: dict[str, Any] = {"form": form}
    if request.method == "POST":
        if not throttle.allow(request, "rights"):
            return _too_many(request, "citizens/rights.html", context)
        if form.is_valid() and not form.cleaned_data["website"]:
            data = form.cleaned_data
            filed = services.file_rights_request(
                kind=data["kind"],
                message=data["message"],
                last_name=data["last_name"],
                first_name=data["first_name"],
                birth_date=data["birth_date"],
                email=data["email"],
                by=request.user,
            )
            return render(request, "citizens/rights_receipt.html", {"filed": filed})
        if form.is_valid():
            form.add_error(None, _("Votre demande n'a pas pu être enregistrée."))
        return render(request, "citizens/rights.html", context, status=400)
    return render(request, "citizens/rights.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def rights_status(request: HttpRequest) -> HttpResponse:
    _public(request)
    _ensure_session(request)
    form = LookupForm(request.POST or None)
    context: dict[str, Any] = {"form": form, "found": None}
    if request.method == "POST":
        if not throttle.allow(request, "lookup"):
            return _too_many(request, "citizens/rights_status.html", context)
        if form.is_valid():
            context["found"] = services.find_rights_request(
                reference=form.cleaned_data["reference"],
                birth_date=form.cleaned_data["birth_date"],
            )
            if context["found"] is None:
                form.add_error(
                    None, _("Aucune demande ne correspond à cette référence et cette date.")
                )
        status = 200 if context["found"] is not None else 400
        return render(request, "citizens/rights_status.html", context, status=status)
    return render(request, "citizens/rights_status.html", context)


def _handler(request: HttpRequest) -> None:
    if not has_permission(request.user, Permission.RIGHTS_REQUEST_HANDLE):
        raise PermissionDenied


@login_required
@require_safe
def inbox(request: HttpRequest) -> HttpResponse:
    _handler(request)
    today = clock.today()
    rows = [
        (item, item.is_overdue(today), item.days_left(today))
        for item in RightsRequest.objects.order_by("status", "due_on", "pk")[:500]
    ]
    return render(request, "citizens/inbox.html", {"rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def inbox_detail(request: HttpRequest, reference: str) -> HttpResponse:
    _handler(request)
    item = get_object_or_404(RightsRequest, reference=reference[:20])
    form = AnswerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.answer_rights_request(
                request=item, answer=form.cleaned_data["answer"], by=request.user
            )
        except HdhError:
            form.add_error(None, _("Cette demande a déjà reçu une réponse."))
        else:
            return redirect(reverse("citizens:inbox_detail", args=[item.reference]))
    today = clock.today()
    return render(
        request,
        "citizens/inbox_detail.html",
        {
            "item": item,
            "form": form,
            "overdue": item.is_overdue(today),
            "days_left": item.days_left(today),
            "answered": item.status == RightsStatus.ANSWERED,
        },
        status=400 if request.method == "POST" else 200,
    )
