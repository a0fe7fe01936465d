"""Every write of the airlock: requests, files, groups, votes, reviews, comments, release.

Each function takes keyword-only arguments and the acting user (``by=``), checks
the person (``has_permission``, audited denial, before the transaction) and the
state (``policies``), then writes the rows and their audit event in one
transaction. Bytes are copied into the airlock's own store before the rows that
point at them are written; a failure leaves at most an unreferenced copy.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from hdh.accounts.authorization import has_permission, require_permission
from hdh.airlock import policies, review, screening, storage, workflow
from hdh.airlock.models import (
    TEXT_LIMIT,
    Comment,
    FileGroup,
    FileReview,
    ReleasedFile,
    ReleaseRequest,
    RequestFile,
    Review,
)
from hdh.airlock.states import FINAL_STATES, FileKind, State, Visibility, Vote
from hdh.audit import services as audit
from hdh.core import clock
from hdh.core.errors import InvalidState, NotAllowed, ValidationFailed
from hdh.core.governance import service_writes
from hdh.core.permissions import Permission
from hdh.workspace.models import Output, Workspace

GROUP_NAME_LIMIT = 100


def _text(value: str, *, field: str, limit: int = TEXT_LIMIT, required: bool = True) -> str:
    text = (value or "").strip()
    if "\x00" in text:
        raise ValidationFailed(_("%(field)s : caractère nul refusé.") % {"field": field})
    if required and not text:
        raise ValidationFailed(_("%(field)s : à renseigner.") % {"field": field})
    if len(text) > limit:
        raise ValidationFailed(
            _("%(field)s : %(limit)s caractères au plus.") % {"field": field, "limit": limit}
        )
    return text


def _fresh(request: ReleaseRequest) -> ReleaseRequest:
    """The request as stored now: state rules are judged on it, not on a caller's copy."""
    return ReleaseRequest.objects.select_related("workspace__permit").get(pk=request.pk)


def active_request(workspace: Workspace) -> ReleaseRequest | None:
    """The workspace's request still in progress (at most one at a time)."""
    return (
        ReleaseRequest.objects.filter(workspace=workspace)
        .exclude(state__in=[*FINAL_STATES, State.APPROVED])
        .first()
    )


def create_request(*, by: Any, workspace: Workspace) -> ReleaseRequest:
    require_permission(by, Permission.RELEASE_REQUEST, workspace)
    with transaction.atomic():
        Workspace.objects.select_for_update().get(pk=workspace.pk)
        if active_request(workspace) is not None:
            raise InvalidState(_("Une demande de sortie est déjà en cours pour cet espace."))
        number = (
            ReleaseRequest.objects.filter(workspace=workspace).aggregate(n=Max("number"))["n"] or 0
        ) + 1
        with service_writes():
            request = ReleaseRequest.objects.create(
                workspace=workspace,
                number=number,
                requested_by=by,
                policy=storage.policy().to_dict(),
            )
        audit.record(
            action="airlock.request.created",
            by=by,
            target=request,
            details={"request": request.reference, "workspace": workspace.reference},
        )
    return request


def _group(request: ReleaseRequest, name: str) -> FileGroup:
    name = _text(name, field=_("Groupe"), limit=GROUP_NAME_LIMIT)
    group, _created = FileGroup.objects.get_or_create(request=request, name=name)
    return group


def save_group(
    *, by: Any, request: ReleaseRequest, name: str, context: str, controls: str
) -> FileGroup:
    """Create or update a group's context and the disclosure controls applied."""
    request = _fresh(request)
    require_permission(by, Permission.RELEASE_REQUEST, request)
    policies.ensure_editable(request)
    context = _text(context, field=_("Contexte"), required=False)
    controls = _text(controls, field=_("Contrôles appliqués"), required=False)
    with transaction.atomic(), service_writes():
        group = _group(request, name)
        group.context = context
        group.controls = controls
        group.save()
        audit.record(
            action="airlock.group.saved",
            by=by,
            target=group,
            details={"request": request.reference},
        )
    return group


def _copy_and_screen(output: Output, request: ReleaseRequest) -> dict[str, Any]:
    if not screening.is_allowed(output.name):
        raise ValidationFailed(
            _("Type de fichier refusé : %(ext)s. Types acceptés : %(allowed)s.")
            % {
                "ext": screening.extension(output.name) or _("sans extension"),
                "allowed": ", ".join(sorted(screening.ALLOWED_TYPES)),
            }
        )
    policy = storage.policy()
    source = storage.workspace_file(output.path)
    if source.stat().st_size > policy.max_file_bytes:
        raise ValidationFailed(
            _("Fichier de plus de %(mib)s Mio : trop volumineux pour être examiné.")
            % {"mib": policy.max_file_bytes // (1024 * 1024)}
        )
    sha256, size, copy = storage.take_copy(source, max_bytes=policy.max_file_bytes)
    if output.sha256 and sha256 != output.sha256:
        raise ValidationFailed(
            _("Le fichier a changé depuis que le traitement l'a écrit : relancez le traitement.")
        )
    status, checks, results = screening.screen(copy, output.name, policy)
    return {
        "sha256": sha256,
        "size": size,
        "media_type": screening.ALLOWED_TYPES[screening.extension(output.name)],
        "check_status": status,
        "checks": checks,
        "results": results,
    }


def _current_output(request: ReleaseRequest, output: Output) -> Output:
    if output.workspace_id != request.workspace_id:
        raise NotAllowed("the output belongs to another workspace")
    if output.superseded_at is not None:
        raise ValidationFailed(_("Une version plus récente de ce fichier existe."))
    return output


def add_file(
    *,
    by: Any,
    request: ReleaseRequest,
    output: Output,
    group: str,
    kind: str = FileKind.OUTPUT,
) -> RequestFile:
    """Add a workspace output to the request: copy its bytes, run the checks."""
    request = _fresh(request)
    require_permission(by, Permission.RELEASE_REQUEST, request)
    policies.ensure_editable(request)
    if kind not in FileKind.values:
        raise ValidationFailed(_("Nature de fichier inconnue."))
    output = _current_output(request, output)
    if RequestFile.objects.filter(request=request, name=output.name).exists():
        raise ValidationFailed(
            _("« %(name)s » est déjà dans la demande : remplacez-le.") % {"name": output.name}
        )
    copied = _copy_and_screen(output, request)
    try:
        with transaction.atomic(), service_writes():
            policies.ensure_editable(ReleaseRequest.objects.select_for_update().get(pk=request.pk))
            file = RequestFile.objects.create(
                request=request,
                group=_group(request, group),
                output=output,
                name=output.name,
                kind=kind,
                added_by=by,
                **copied,
            )
            _touch(request)
            audit.record(
                action="airlock.file.added",
                by=by,
                target=file,
                details={
                    "request": request.reference,
                    "kind": kind,
                    "sha256": storage.audit_digest(file.sha256),
                    "size": file.size,
                    "checks": str(file.check_status),
                },
            )
    except IntegrityError as exc:
        raise ValidationFailed(
            _("« %(name)s » est déjà dans la demande.") % {"name": output.name}
        ) from exc
    return file


def replace_file(*, by: Any, file: RequestFile) -> RequestFile:
    """Take the newest version of the file's output; its votes start again."""
    request = _fresh(file.request)
    require_permission(by, Permission.RELEASE_REQUEST, request)
    policies.ensure_editable(request)
    newest = Output.objects.filter(
        workspace_id=request.workspace_id, name=file.name, superseded_at__isnull=True
    ).first()
    if newest is None:
        raise ValidationFailed(_("Ce fichier n'existe plus dans l'espace projet."))
    copied = _copy_and_screen(newest, request)
    if copied["sha256"] == file.sha256:
        raise ValidationFailed(
            _("Le fichier n'a pas changé : produisez-en une nouvelle version dans l'espace projet.")
        )
    with transaction.atomic(), service_writes():
        locked = RequestFile.objects.select_for_update().get(pk=file.pk)
        policies.ensure_editable(ReleaseRequest.objects.get(pk=request.pk))
        previous = locked.sha256
        dropped = FileReview.objects.filter(file=locked).delete()[0]
        for key, value in copied.items():
            setattr(locked, key, value)
        locked.output = newest
        locked.version += 1
        locked.added_by = by
        locked.added_at = clock.now()
        locked.save()
        _touch(request)
        audit.record(
            action="airlock.file.replaced",
            by=by,
            target=locked,
            details={
                "request": request.reference,
                "previous_sha256": storage.audit_digest(previous),
                "sha256": storage.audit_digest(locked.sha256),
                "votes_reset": dropped,
                "checks": str(locked.check_status),
            },
        )
    file.refresh_from_db()
    return file


def remove_file(*, by: Any, file: RequestFile) -> None:
    """Take a file out of a request that has not been submitted yet."""
    request = _fresh(file.request)
    require_permission(by, Permission.RELEASE_REQUEST, request)
    if request.state != State.PENDING:
        raise InvalidState(
            _("Un fichier déjà examiné ne se retire pas : remplacez-le ou retirez la demande.")
        )
    with transaction.atomic(), service_writes():
        audit.record(
            action="airlock.file.removed",
            by=by,
            target=file,
            details={"request": request.reference, "sha256": storage.audit_digest(file.sha256)},
        )
        Comment.objects.filter(file=file).delete()
        file.delete()
        _touch(request)


def change_kind(*, by: Any, file: RequestFile, kind: str) -> RequestFile:
    request = _fresh(file.request)
    require_permission(by, Permission.RELEASE_REQUEST, request)
    policies.ensure_editable(request)
    if kind not in FileKind.values:
        raise ValidationFailed(_("Nature de fichier inconnue."))
    with transaction.atomic(), service_writes():
        FileReview.objects.filter(file=file).delete()
        file.kind = kind
        file.save()
        audit.record(
            action="airlock.file.kind_changed",
            by=by,
            target=file,
            details={"request": request.reference, "kind": kind},
        )
    return file


def _touch(request: ReleaseRequest) -> None:
    ReleaseRequest.objects.filter(pk=request.pk).update(updated_at=clock.now())


def comment(
    *,
    by: Any,
    request: ReleaseRequest,
    text: str,
    visibility: str = Visibility.PUBLIC,
    group: FileGroup | None = None,
    file: RequestFile | None = None,
) -> Comment:
    """A comment on the request, a group or a file. The project side always writes publicly."""
    request = _fresh(request)
    checker = has_permission(by, Permission.RELEASE_REVIEW, request, audit=False)
    if not checker:
        require_permission(by, Permission.RELEASE_REQUEST, request)
        visibility = Visibility.PUBLIC
    else:
        policies.ensure_under_review(request)
    if request.state in FINAL_STATES:
        raise InvalidState(_("La demande est close."))
    if visibility not in Visibility.values:
        raise ValidationFailed(_("Visibilité inconnue."))
    text = _text(text, field=_("Commentaire"))
    if group is not None and group.request_id != request.pk:
        raise NotAllowed("the group belongs to another request")
    if file is not None and file.request_id != request.pk:
        raise NotAllowed("the file belongs to another request")
    with transaction.atomic(), service_writes():
        note = Comment.objects.create(
            request=request,
            group=group,
            file=file,
            author=by,
            by_checker=checker,
            text=text,
            visibility=visibility,
            turn=request.turn,
        )
        audit.record(
            action="airlock.comment.added",
            by=by,
            target=note,
            details={
                "request": request.reference,
                "visibility": visibility,
                "on": "file" if file else "group" if group else "request",
                "length": len(text),
            },
        )
    return note


def vote(*, by: Any, file: RequestFile, decision: str) -> FileReview:
    """A checker's vote on one output file, changeable until they submit their review."""
    request = _fresh(file.request)
    require_permission(by, Permission.RELEASE_REVIEW, request)
    policies.ensure_under_review(request)
    if decision not in Vote.values:
        raise ValidationFailed(_("Avis inconnu."))
    if file.kind != FileKind.OUTPUT:
        raise InvalidState(_("Les pièces justificatives ne sortent jamais : pas d'avis."))
    if review.has_reviewed(request, by):
        raise InvalidState(_("Votre examen de ce tour est déjà soumis."))
    with transaction.atomic(), service_writes():
        FileReview.objects.filter(file=file, checker=by).delete()
        cast = FileReview.objects.create(
            file=file, checker=by, decision=decision, turn=request.turn
        )
        audit.record(
            action="airlock.file.voted",
            by=by,
            target=file,
            details={"request": request.reference, "decision": decision, "turn": request.turn},
        )
    return cast


def submit_review(*, by: Any, request: ReleaseRequest) -> Review:
    """A checker hands in their votes; the second review makes the request reviewed."""
    require_permission(by, Permission.RELEASE_REVIEW, request)
    with transaction.atomic():
        locked = ReleaseRequest.objects.select_for_update().get(pk=request.pk)
        policies.ensure_under_review(locked)
        if review.has_reviewed(locked, by):
            raise InvalidState(_("Votre examen de ce tour est déjà soumis."))
        outputs = set(
            RequestFile.objects.filter(request=locked, kind=FileKind.OUTPUT).values_list(
                "pk", flat=True
            )
        )
        voted = set(
            FileReview.objects.filter(file__request=locked, checker=by).values_list(
                "file_id", flat=True
            )
        )
        if outputs - voted:
            raise ValidationFailed(
                _("Donnez un avis sur chaque résultat avant de soumettre votre examen.")
            )
        with service_writes():
            submitted = Review.objects.create(request=locked, checker=by, turn=locked.turn)
        audit.record(
            action="airlock.review.submitted",
            by=by,
            target=locked,
            details={"request": locked.reference, "turn": locked.turn},
        )
        if locked.state == State.SUBMITTED:
            workflow.apply(locked, to=State.PARTIALLY_REVIEWED, by=by)
        elif locked.state == State.PARTIALLY_REVIEWED:
            workflow.apply(locked, to=State.REVIEWED, by=by)
    request.refresh_from_db()
    return submitted


def submit(*, by: Any, request: ReleaseRequest) -> ReleaseRequest:
    """Hand the request to the checkers (first time, or again after a return)."""
    return workflow.transition(request, to=State.SUBMITTED, by=by)


def withdraw(*, by: Any, request: ReleaseRequest) -> ReleaseRequest:
    return workflow.transition(request, to=State.WITHDRAWN, by=by)


def return_to_requester(*, by: Any, request: ReleaseRequest) -> ReleaseRequest:
    return workflow.transition(request, to=State.RETURNED, by=by)


def reject(*, by: Any, request: ReleaseRequest, reason: str) -> ReleaseRequest:
    """Refuse the release, with the reason as a public comment."""
    found = workflow.find(_fresh(request), State.REJECTED)
    workflow.check_actor(found, request, by)
    reason = _text(reason, field=_("Motif du refus"))
    with transaction.atomic():
        comment(by=by, request=request, text=reason, visibility=Visibility.PUBLIC)
        workflow.apply(request, to=State.REJECTED, by=by)
    return request


def approve(*, by: Any, request: ReleaseRequest) -> ReleaseRequest:
    """Approve the request, then release its output files."""
    workflow.transition(request, to=State.APPROVED, by=by, details={"approved_by_checker": True})
    return release(request=request)


def release(*, request: ReleaseRequest) -> ReleaseRequest:
    """Copy the approved output files to the release store (the platform's move).

    The copies are made and verified first; the rows, the state and the audit
    event then commit together. Run again after a failure, it starts over.
    """
    if _fresh(request).state != State.APPROVED:
        raise InvalidState(_("Seule une demande approuvée sort."))
    outputs = list(
        RequestFile.objects.filter(request=request, kind=FileKind.OUTPUT, released__isnull=True)
    )
    copied = [(file, storage.release_copy(file.sha256, request.pk, file.pk)) for file in outputs]
    with transaction.atomic():
        locked = ReleaseRequest.objects.select_for_update().get(pk=request.pk)
        if locked.state != State.APPROVED:
            raise InvalidState(_("Seule une demande approuvée sort."))
        now = clock.now()
        with service_writes():
            for file, path in copied:
                ReleasedFile.objects.create(
                    file=file, sha256=file.sha256, size=path.stat().st_size, released_at=now
                )
        for file, _path in copied:
            audit.record(
                action="airlock.file.released",
                by=None,
                target=file,
                details={
                    "request": locked.reference,
                    "sha256": storage.audit_digest(file.sha256),
                    "size": file.size,
                },
            )
        workflow.apply(locked, to=State.RELEASED, by=None, details={"files": len(copied)})
    request.refresh_from_db()
    return request


def open_released(*, by: Any, released: ReleasedFile) -> bytes:
    """The bytes of a released file for a project member, re-verified; audited."""
    request = _fresh(released.file.request)
    require_permission(by, Permission.RELEASE_DOWNLOAD, released)
    if request.state != State.RELEASED:
        raise InvalidState(_("Ce fichier n'est pas sorti."))
    data = storage.read_verified(
        storage.released_path(request.pk, released.file_id), released.sha256
    )
    with transaction.atomic():
        audit.record(
            action="airlock.downloaded",
            by=by,
            target=released,
            details={
                "request": request.reference,
                "sha256": storage.audit_digest(released.sha256),
                "size": len(data),
            },
        )
    return data


def read_for_review(*, by: Any, file: RequestFile) -> bytes:
    """The airlock's copy of a file, for showing inline to checkers and the project."""
    request = _fresh(file.request)
    if not (
        has_permission(by, Permission.RELEASE_REVIEW, request, audit=False)
        or has_permission(by, Permission.RELEASE_REQUEST, request, audit=False)
    ):
        require_permission(by, Permission.RELEASE_REVIEW, request)
    data = storage.read_verified(storage.copy_path(file.sha256), file.sha256)
    with transaction.atomic():
        audit.record(
            action="airlock.file.viewed",
            by=by,
            target=file,
            details={"request": request.reference, "sha256": storage.audit_digest(file.sha256)},
        )
    return data
