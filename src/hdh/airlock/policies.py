"""What is allowed in which state. Questions about people live in ``permissions``.

Each function raises a typed error (:class:`InvalidState`, :class:`ValidationFailed`)
that only views turn into responses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q
from django.utils.translation import gettext as _

from hdh.airlock import review
from hdh.airlock.models import Comment, ReleaseRequest, RequestFile
from hdh.airlock.states import (
    EDITABLE_STATES,
    UNDER_REVIEW,
    CheckStatus,
    FileDecision,
    FileKind,
    State,
    Visibility,
)
from hdh.core.errors import InvalidState, ValidationFailed

if TYPE_CHECKING:
    from hdh.airlock.workflow import Transition


def ensure_editable(request: ReleaseRequest) -> None:
    if request.state not in EDITABLE_STATES:
        raise InvalidState(
            _("La demande ne peut plus être modifiée dans l'état « %(state)s ».")
            % {"state": request.get_state_display()}
        )


def ensure_under_review(request: ReleaseRequest) -> None:
    if request.state not in UNDER_REVIEW:
        raise InvalidState(
            _("La demande n'est pas en cours d'examen (état « %(state)s »).")
            % {"state": request.get_state_display()}
        )


def submission_problems(request: ReleaseRequest) -> list[str]:
    """What stops the request from going to the checkers; empty when it may."""
    problems: list[str] = []
    files = list(RequestFile.objects.filter(request=request).select_related("group"))
    if not any(f.kind == FileKind.OUTPUT for f in files):
        problems.append(_("Ajouter au moins un résultat à sortir."))
    for group in {f.group for f in files}:
        if not group.context.strip() or not group.controls.strip():
            problems.append(
                _("Groupe « %(name)s » : décrire le contexte et les contrôles appliqués.")
                % {"name": group.name}
            )
    for f in files:
        if f.check_status == CheckStatus.BLOCKED:
            problems.append(
                _("« %(name)s » ne peut pas sortir : %(reason)s")
                % {"name": f.name, "reason": blocking_reason(f)}
            )
    return sorted(problems)


def blocking_reason(file: RequestFile) -> str:
    from hdh.airlock.screening import BLOCKING_RULES

    for finding in file.checks.get("findings", []):
        if finding.get("rule") in BLOCKING_RULES and finding.get("verdict") == "fail":
            return str(finding.get("message", ""))
    return ""


def return_problems(request: ReleaseRequest) -> list[str]:
    """Files needing changes must carry a public comment of this turn (file or group)."""
    problems = []
    decided = review.decisions(request)
    for file in RequestFile.objects.filter(request=request, kind=FileKind.OUTPUT):
        if decided.get(file.pk) == FileDecision.APPROVED:
            continue
        explained = Comment.objects.filter(
            Q(file=file) | Q(group_id=file.group_id, file__isnull=True),
            request=request,
            by_checker=True,
            visibility=Visibility.PUBLIC,
            turn=request.turn,
        ).exists()
        if not explained:
            problems.append(
                _(
                    "« %(name)s » : expliquer au demandeur, dans un commentaire public, "
                    "ce qu'il faut changer."
                )
                % {"name": file.name}
            )
    return problems


def check_transition(request: ReleaseRequest, transition: Transition) -> None:
    """State-level conditions of one transition, beyond the table itself."""
    source, target = transition.source, transition.target
    if target == State.SUBMITTED:
        problems = submission_problems(request)
        if problems:
            raise ValidationFailed(_("La demande ne peut pas être soumise."), problems)
    elif target == State.PARTIALLY_REVIEWED:
        if len(review.reviewers(request)) < 1:
            raise InvalidState(_("Aucun examen n'a été soumis."))
    elif target == State.REVIEWED:
        if len(review.reviewers(request)) < review.REVIEWS_NEEDED:
            raise InvalidState(_("Deux examens indépendants sont nécessaires."))
    elif source == State.REVIEWED and target == State.APPROVED:
        pending = [
            pk
            for pk, decision in review.decisions(request).items()
            if decision != FileDecision.APPROVED
        ]
        if pending:
            raise InvalidState(
                _("Chaque résultat doit être approuvé par deux contrôleurs avant la sortie.")
            )
    elif source == State.REVIEWED and target == State.RETURNED:
        problems = return_problems(request)
        if problems:
            raise ValidationFailed(_("La demande ne peut pas être renvoyée."), problems)
    elif source == State.REVIEWED and target == State.REJECTED:
        if not Comment.objects.filter(
            request=request, by_checker=True, visibility=Visibility.PUBLIC, turn=request.turn
        ).exists():
            raise ValidationFailed(_("Motiver le refus dans un commentaire public."))
    elif target == State.RELEASED:
        unreleased = RequestFile.objects.filter(
            request=request, kind=FileKind.OUTPUT, released__isnull=True
        )
        if unreleased.exists():
            raise InvalidState(_("Tous les résultats approuvés doivent être copiés d'abord."))
