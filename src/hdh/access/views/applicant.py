"""The applicant's pages: my files, a draft saved as you go, the perimeter, the team."""

from __future__ import annotations

from django.contrib import messages as django_messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from hdh.access import queries
from hdh.access.forms import ApplicationForm, CreateForm, MemberForm, PerimeterForm, ProtocolForm
from hdh.access.services import applications, messages, perimeter, team
from hdh.access.views._common import (
    acting,
    actor,
    application_for,
    done,
    invalid_form,
    render_detail,
    signed_in,
)
from hdh.accounts.authorization import has_permission
from hdh.accounts.models import User
from hdh.catalog.models import Base, Table
from hdh.core.errors import ValidationFailed
from hdh.core.permissions import Permission

VARIABLES_SHOWN = 500


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    """My applications and my queues; visitors go to the public directory."""
    if not request.user.is_authenticated:
        return redirect("access:directory")
    user = request.user
    return render(
        request,
        "access/index.html",
        {
            "mine": queries.mine(user),
            "queues": queries.staff_queues(user),
            "can_create": has_permission(user, Permission.APPLICATION_CREATE, audit=False),
            "sees_overdue": has_permission(user, Permission.APPLICATION_VIEW, audit=False),
        },
    )


@require_http_methods(["GET", "POST"])
@signed_in
def create(request: HttpRequest) -> HttpResponse:
    if not has_permission(request.user, Permission.APPLICATION_CREATE):
        raise PermissionDenied
    form = CreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            application = applications.create_application(
                by=actor(request),
                title=form.cleaned_data["title"],
                legal_route=form.cleaned_data["legal_route"],
            )
        except ValidationFailed as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("access:edit", pk=application.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "access/create.html", {"form": form}, status=status)


@require_safe
@signed_in
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_for(request, pk, Permission.APPLICATION_VIEW)
    return render_detail(request, application)


@require_http_methods(["GET", "POST"])
@signed_in
@acting
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_for(request, pk, Permission.APPLICATION_EDIT)
    form = ApplicationForm(request.POST or None, instance=application)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            values = {name: form.cleaned_data[name] for name in form.changed_data}
            applications.update_application(
                by=actor(request),
                application=application,
                **values,
            )
            if "save_and_view" in request.POST:
                return done(request, application, _("Brouillon enregistré."))
            django_messages.success(request, _("Brouillon enregistré."))
            return redirect("access:edit", pk=application.pk)
        status = 422
    return render(
        request,
        "access/edit.html",
        {"application": application, "form": form, "protocol_form": ProtocolForm()},
        status=status,
    )


@require_POST
@signed_in
@acting
def upload_protocol(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_for(request, pk, Permission.APPLICATION_EDIT)
    form = ProtocolForm(request.POST, request.FILES)
    if not form.is_valid():
        return invalid_form(request, application, form)
    applications.attach_protocol(
        by=actor(request),
        application=application,
        upload=form.cleaned_data["protocol"],
    )
    return done(request, application, _("Protocole joint."))


@require_safe
@signed_in
def download_protocol(request: HttpRequest, pk: int) -> FileResponse:
    application = application_for(request, pk, Permission.APPLICATION_VIEW)
    if not application.protocol:
        raise Http404
    return FileResponse(
        application.protocol.open("rb"),
        as_attachment=True,
        filename=application.protocol_name or "protocole.pdf",
        content_type="application/pdf",
    )


@require_http_methods(["GET", "POST"])
@signed_in
@acting
def perimeter_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Choose a base, then a table, then variables, each time with a justification."""
    application = application_for(request, pk, Permission.APPLICATION_EDIT)
    source = request.POST if request.method == "POST" else request.GET
    base = Base.objects.filter(slug=str(source.get("base", ""))[:80]).first()
    table = None
    if base is not None and source.get("table"):
        table = Table.objects.filter(
            version_id=base.current_version_id, name=str(source.get("table"))[:128]
        ).first()
    variables = list(table.variables.all()[:VARIABLES_SHOWN]) if table else []
    form = PerimeterForm(
        request.POST if request.method == "POST" else None,
        variable_names=[v.name for v in variables],
    )
    status = 200
    if request.method == "POST":
        if base is None:
            raise ValidationFailed(_("Choisissez une base du catalogue."), ["base"])
        if source.get("table") and table is None:
            raise ValidationFailed(_("Cette table n'existe pas dans la base."), ["table"])
        if form.is_valid():
            chosen = set(form.cleaned_data["variables"])
            perimeter.add_items(
                by=actor(request),
                application=application,
                base=base,
                table=table,
                variables=[v for v in variables if v.name in chosen],
                justification=form.cleaned_data["justification"],
            )
            return redirect("access:perimeter", pk=application.pk)
        status = 422
    query = str(request.GET.get("q", ""))[:100]
    tables: list[Table] = []
    if base is not None and table is None:
        found = Table.objects.filter(version_id=base.current_version_id)
        if query:
            found = found.filter(Q(name__icontains=query) | Q(title__icontains=query))
        tables = list(found[:200])
    return render(
        request,
        "access/perimeter.html",
        {
            "application": application,
            "items": application.perimeter.select_related("base", "table", "variable"),
            "bases": Base.objects.order_by("title") if base is None else [],
            "base": base,
            "table": table,
            "tables": tables,
            "variables": variables,
            "form": form,
            "query": query,
        },
        status=status,
    )


@require_POST
@signed_in
@acting
def perimeter_remove(request: HttpRequest, pk: int, item: int) -> HttpResponse:
    application = application_for(request, pk, Permission.APPLICATION_EDIT)
    perimeter.remove_item(by=actor(request), application=application, item_id=item)
    return redirect("access:perimeter", pk=application.pk)


@require_POST
@signed_in
@acting
def member_add(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_for(request, pk, Permission.APPLICATION_EDIT)
    form = MemberForm(request.POST)
    if not form.is_valid():
        return invalid_form(request, application, form)
    name = form.cleaned_data["username"].strip()
    user = User.objects.filter(Q(username=name) | Q(email__iexact=name)).first()
    if user is None:
        raise ValidationFailed(_("Aucun compte ne correspond."), ["username"])
    team.add_member(
        by=actor(request),
        application=application,
        user=user,
        role=form.cleaned_data["role"],
    )
    return done(request, application, _("Membre ajouté."))


@require_POST
@signed_in
@acting
def member_remove(request: HttpRequest, pk: int, member: int) -> HttpResponse:
    application = application_for(request, pk, Permission.APPLICATION_EDIT)
    team.remove_member(by=actor(request), application=application, member_id=member)
    return done(request, application, _("Membre retiré."))


@require_POST
@signed_in
@acting
def submit(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_for(request, pk, Permission.APPLICATION_EDIT)
    applications.submit(by=actor(request), application=application)
    return done(request, application, _("Demande déposée."))


@require_POST
@signed_in
@acting
def resubmit(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_for(request, pk, Permission.APPLICATION_EDIT)
    note = str(request.POST.get("text", ""))[:10000]
    applications.resubmit(by=actor(request), application=application, note=note)
    return done(request, application, _("Demande renvoyée."))


@require_POST
@signed_in
@acting
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_for(request, pk, Permission.APPLICATION_EDIT)
    note = str(request.POST.get("text", ""))[:10000]
    applications.withdraw(by=actor(request), application=application, note=note)
    return done(request, application, _("Demande retirée."))


@require_POST
@signed_in
@acting
def message(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_for(request, pk, Permission.APPLICATION_VIEW)
    body = str(request.POST.get("body", ""))
    question = str(request.POST.get("question", ""))[:40]
    messages.post_message(by=actor(request), application=application, body=body, question=question)
    return done(request, application, _("Message envoyé."))


@require_POST
@signed_in
@acting
def amend(request: HttpRequest, pk: int) -> HttpResponse:
    """Start an amendment or a renewal of an authorised project."""
    application = application_for(request, pk, Permission.APPLICATION_EDIT)
    kind = str(request.POST.get("kind", ""))[:12]
    draft = applications.start_amendment(by=actor(request), application=application, kind=kind)
    return redirect("access:edit", pk=draft.pk)
