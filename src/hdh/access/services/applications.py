"""Creating, editing, submitting and withdrawing an application (the applicant's side)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from hdh.access import policies, questions, scanning, workflow
from hdh.access.models import Application, PerimeterItem, Project, TeamMember
from hdh.access.services._common import require_on, require_text, validate
from hdh.access.states import FINAL_STATES, Holder, Kind, LegalRoute, State
from hdh.accounts.authorization import require_permission
from hdh.accounts.models import User
from hdh.audit import services as audit
from hdh.core import clock, ids
from hdh.core.errors import InvalidState, ValidationFailed
from hdh.core.governance import service_writes
from hdh.core.permissions import Permission, ProjectRole

logger = logging.getLogger(__name__)

# The fields of the form an applicant may write while the file is editable.
EDITABLE_FIELDS = frozenset(
    {
        "title",
        "lay_summary",
        "technical_summary",
        "purpose",
        "public_interest",
        "controller_name",
        "implementer_name",
        "funding",
        "declarations_of_interest",
        "linkages",
        "expected_outputs",
        "duration_months",
        "processing_location",
        "period_start",
        "period_end",
        "population_criteria",
        "legal_route",
    }
)
PROTOCOL_MAX_BYTES = 20 * 1024 * 1024


def create_application(*, by: User, title: str, legal_route: str) -> Application:
    require_permission(by, Permission.APPLICATION_CREATE)
    title = require_text(title, _("Titre"), 300)
    if legal_route not in LegalRoute.values:
        raise ValidationFailed(_("Voie d'accès inconnue."), ["legal_route"])
    now = clock.now()
    with transaction.atomic(), service_writes():
        project = Project(reference=ids.reference("PRJ", 8), title=title, created_by=by)
        project.save()
        application = Application(
            project=project,
            title=title,
            form_version=questions.FORM_VERSION,
            answer_versions=_versions_of(["title"]),
            legal_route=legal_route,
            created_by=by,
            created_at=now,
            updated_at=now,
        )
        validate(application, exclude=["project", "protocol"])
        application.save()
        TeamMember.objects.create(
            application=application, user=by, role=ProjectRole.SCIENTIFIC_LEAD, added_at=now
        )
        audit.record(
            action="access.application.created",
            by=by,
            target=application,
            details={"project": project.reference, "route": legal_route},
        )
    return application


def update_application(*, by: User, application: Application, **values: Any) -> Application:
    """Save part of the form (drafts save as you go). Unknown fields are refused."""
    require_on(by, Permission.APPLICATION_EDIT, application)
    unknown = sorted(set(values) - EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(_("Champs inconnus."), unknown)
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        policies.ensure_editable(locked)
        if "legal_route" in values and locked.state != State.DRAFT:
            raise ValidationFailed(_("La voie d'accès se choisit avant le dépôt."), ["legal_route"])
        changed = []
        for name, value in values.items():
            if isinstance(value, str):
                value = value.strip()
            if getattr(locked, name) != value:
                setattr(locked, name, value)
                changed.append(name)
        if not changed:
            return locked
        # Each answer records the version of the question it answers.
        locked.answer_versions = {**(locked.answer_versions or {}), **_versions_of(changed)}
        validate(locked, exclude=["project", "protocol"])
        locked.updated_at = clock.now()
        with service_writes():
            locked.save()
            if "title" in changed and locked.kind == "initial":
                project = locked.project
                project.title = locked.title
                project.save(update_fields=["title"])
        audit.record(
            action="access.application.updated",
            by=by,
            target=locked,
            details={"fields": sorted(changed)},
        )
    return locked


def _versions_of(keys: list[str]) -> dict[str, int]:
    """The current version of each question among ``keys`` (for answers given now)."""
    bank = questions.by_key()
    return {key: bank[key].version for key in keys if key in bank}


def attach_protocol(*, by: User, application: Application, upload: UploadedFile) -> Application:
    """The study protocol: a PDF, no larger than ``HDH_ACCESS_PROTOCOL_MAX_BYTES``."""
    require_on(by, Permission.APPLICATION_EDIT, application)
    policies.ensure_editable(application)
    limit = int(getattr(settings, "HDH_ACCESS_PROTOCOL_MAX_BYTES", PROTOCOL_MAX_BYTES))
    size = upload.size or 0
    if size == 0:
        raise ValidationFailed(_("Le fichier est vide."), ["protocol"])
    if size > limit:
        raise ValidationFailed(
            _("Le protocole dépasse %(mb)s Mo.") % {"mb": limit // (1024 * 1024)}, ["protocol"]
        )
    name = (upload.name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:200]
    head = upload.read(5)
    upload.seek(0)
    if not name.lower().endswith(".pdf") or head != b"%PDF-":
        raise ValidationFailed(_("Le protocole doit être un fichier PDF."), ["protocol"])
    _scan(by, application, upload)
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        policies.ensure_editable(locked)
        old = locked.protocol.name if locked.protocol else ""
        content = ContentFile(b"".join(upload.chunks()))
        with service_writes():
            locked.protocol.save(f"{uuid.uuid4().hex}.pdf", content, save=False)
            locked.protocol_name = name
            locked.updated_at = clock.now()
            locked.save()
        audit.record(
            action="access.application.protocol_attached",
            by=by,
            target=locked,
            details={"bytes": size},
        )
        # An amendment shares its predecessor's file until it attaches its own.
        if old and not Application.objects.filter(protocol=old).exists():
            storage = locked.protocol.storage
            transaction.on_commit(lambda: storage.delete(old))
    return locked


def _scan(by: User, application: Application, upload: UploadedFile) -> None:
    """Refuse the file unless the antivirus (``HDH_UPLOAD_SCANNER``) says it is clean."""
    try:
        verdict = scanning.configured().scan(upload.chunks())
    except scanning.ScannerUnavailable as exc:
        logger.error("upload scanner unavailable: %s", exc)
        audit.record(
            action="access.application.upload_refused",
            by=by,
            target=application,
            details={"reason": "scanner_unavailable"},
        )
        raise ValidationFailed(
            _(
                "L'analyse antivirus est indisponible : le fichier n'a pas été accepté. "
                "Réessayez plus tard ou contactez le guichet."
            ),
            ["protocol"],
        ) from exc
    finally:
        upload.seek(0)
    if not verdict.clean:
        audit.record(
            action="access.application.upload_refused",
            by=by,
            target=application,
            details={"reason": "malware", "signature": verdict.signature},
        )
        raise ValidationFailed(
            _("Le fichier est refusé : l'antivirus y a détecté « %(signature)s ».")
            % {"signature": verdict.signature},
            ["protocol"],
        )


# A project whose permit is in force, which an amendment or a renewal may change.
LIVE_STATES = frozenset(
    {State.AUTHORISED, State.CONTRACT_SIGNED, State.DATA_PREPARATION, State.WORKSPACE_OPEN}
)


def start_amendment(*, by: User, application: Application, kind: str) -> Application:
    """A draft amendment (perimeter, team) or renewal of an authorised project, pre-filled
    with what was authorised; it follows the lighter workflow (see ``workflow``)."""
    require_on(by, Permission.APPLICATION_EDIT, application)
    if kind not in (Kind.AMENDMENT, Kind.RENEWAL):
        raise ValidationFailed(_("Nature de demande inconnue."), ["kind"])
    if application.state not in LIVE_STATES:
        raise InvalidState(_("Seul un projet autorisé peut être modifié ou renouvelé."))
    now = clock.now()
    with transaction.atomic():
        open_ones = Application.objects.filter(project_id=application.project_id).exclude(
            state__in=[*FINAL_STATES, *LIVE_STATES]
        )
        if open_ones.select_for_update().exists():
            raise InvalidState(_("Une demande est déjà en cours pour ce projet."))
        copy = Application.objects.get(pk=application.pk)
        copy.pk = None
        copy.id = None
        copy._state.adding = True
        copy.kind = kind
        copy.state = State.DRAFT
        copy.holder = Holder.APPLICANT
        copy.stage = ""
        copy.stage_started_at = copy.stage_due_at = copy.paused_at = copy.submitted_at = None
        copy.stage_extended = False
        copy.returned_from = ""
        copy.created_by = by
        copy.created_at = copy.updated_at = now
        with service_writes():
            copy.save()
            for member in application.team.all():
                TeamMember.objects.create(
                    application=copy, user_id=member.user_id, role=member.role, added_at=now
                )
            for item in application.perimeter.all():
                PerimeterItem.objects.create(
                    application=copy,
                    base_id=item.base_id,
                    table_id=item.table_id,
                    variable_id=item.variable_id,
                    justification=item.justification,
                )
        audit.record(
            action="access.application.amendment_started",
            by=by,
            target=copy,
            details={"kind": kind, "amends": application.pk, "project": copy.project.reference},
        )
    return copy


def submit(*, by: User, application: Application) -> Application:
    return workflow.transition(application, to=State.SUBMITTED, by=by)


def resubmit(*, by: User, application: Application, note: str = "") -> Application:
    """Send back a file the guichet or the committee returned for more information."""
    if application.state != State.RETURNED:
        raise InvalidState(_("La demande n'a pas été renvoyée au demandeur."))
    target = application.returned_from or State.ADMISSIBILITY
    return workflow.transition(application, to=target, by=by, note=note[:10000])


def withdraw(*, by: User, application: Application, note: str = "") -> Application:
    return workflow.transition(application, to=State.WITHDRAWN, by=by, note=note[:10000])
