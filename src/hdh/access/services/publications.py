"""Results and publications of a project, added by its team or the guichet."""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils.translation import gettext as _

from hdh.access.models import Application, Project, Publication, PublicationKind
from hdh.access.permissions import project_roles
from hdh.access.services._common import require_text
from hdh.accounts.authorization import audit_record_denial, has_permission
from hdh.accounts.models import User
from hdh.audit import services as audit
from hdh.core import clock
from hdh.core.errors import InvalidState, NotAllowed, ValidationFailed
from hdh.core.governance import service_writes
from hdh.core.permissions import Permission

# Crossref's pattern for modern DOIs.
DOI = re.compile(r"^10\.\d{4,9}/[-._;()/:A-Za-z0-9<>\[\]]+$")
_url = URLValidator(schemes=["http", "https"])


def may_manage(user: object, project: Project) -> bool:
    """A member of the project's team, or the guichet."""
    if getattr(user, "pk", None) is None:
        return False
    if has_permission(user, Permission.APPLICATION_ADMISSIBILITY, audit=False):
        return True
    return bool(project_roles(user, project))


def _require_manager(by: User, project: Project) -> None:
    if not may_manage(by, project):
        audit_record_denial(
            by, Permission.APPLICATION_EDIT, project, "not a member of the project or the guichet"
        )
        raise NotAllowed("only the project's team or the guichet adds its results")


def _clean_doi(value: str) -> str:
    doi = value.strip()
    for prefix in ("https://doi.org/", "http://doi.org/", "doi:"):
        if doi.lower().startswith(prefix):
            doi = doi[len(prefix) :]
    if doi and (len(doi) > 200 or not DOI.match(doi)):
        raise ValidationFailed(_("DOI invalide (forme attendue : 10.1234/abcd)."), ["doi"])
    return doi


def _clean_url(value: str) -> str:
    url = value.strip()
    if not url:
        return ""
    try:
        _url(url)
    except ValidationError as exc:
        raise ValidationFailed(_("Adresse invalide (http ou https)."), ["url"]) from exc
    if len(url) > 500:
        raise ValidationFailed(_("Adresse trop longue."), ["url"])
    return url


def add(
    *,
    by: User,
    project: Project,
    title: str,
    kind: str,
    published_on: dt.date,
    url: str = "",
    doi: str = "",
) -> Publication:
    _require_manager(by, project)
    if not Application.objects.filter(project=project, submitted_at__isnull=False).exists():
        raise InvalidState(_("Le projet n'est pas encore au répertoire public."))
    title = require_text(title, _("Titre"), 500)
    if kind not in PublicationKind.values:
        raise ValidationFailed(_("Nature inconnue."), ["kind"])
    if not isinstance(published_on, dt.date) or published_on > clock.today():
        raise ValidationFailed(_("La date ne peut pas être dans le futur."), ["published_on"])
    url, doi = _clean_url(url), _clean_doi(doi)
    if not url and not doi:
        raise ValidationFailed(_("Indiquez une adresse ou un DOI."), ["url", "doi"])
    with transaction.atomic():
        with service_writes():
            publication = Publication.objects.create(
                project=project,
                title=title,
                kind=kind,
                url=url,
                doi=doi,
                published_on=published_on,
                added_by=by,
                added_at=clock.now(),
            )
        audit.record(
            action="access.publication.added",
            by=by,
            target=project,
            details={"publication_id": publication.pk, "kind": kind},
        )
    return publication


def remove(*, by: User, publication: Publication) -> None:
    project = publication.project
    _require_manager(by, project)
    with transaction.atomic():
        publication_id = publication.pk
        with service_writes():
            publication.delete()
        audit.record(
            action="access.publication.removed",
            by=by,
            target=project,
            details={"publication_id": publication_id},
        )
