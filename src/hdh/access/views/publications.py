"""Results and publications of a project, added from its file by the team or the guichet."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hdh.access.forms import PublicationForm
from hdh.access.models import Publication
from hdh.access.services import publications
from hdh.access.views._common import (
    MAX_ID,
    acting,
    actor,
    application_for,
    done,
    invalid_form,
    signed_in,
)
from hdh.core.permissions import Permission


@require_POST
@signed_in
@acting
def add(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_for(request, pk, Permission.APPLICATION_VIEW)
    form = PublicationForm(request.POST)
    if not form.is_valid():
        return invalid_form(request, application, form)
    publications.add(by=actor(request), project=application.project, **form.cleaned_data)
    return done(request, application, _("Résultat ou publication ajouté au répertoire."))


@require_POST
@signed_in
@acting
def remove(request: HttpRequest, pk: int, publication: int) -> HttpResponse:
    application = application_for(request, pk, Permission.APPLICATION_VIEW)
    found = (
        Publication.objects.filter(pk=publication, project_id=application.project_id).first()
        if publication <= MAX_ID
        else None
    )
    if found is None:
        raise Http404
    publications.remove(by=actor(request), publication=found)
    return done(request, application, _("Résultat ou publication retiré."))
