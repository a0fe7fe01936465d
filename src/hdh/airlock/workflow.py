"""The release request workflow as one table, and the one function that moves a request.

``TRANSITIONS`` says, for each (from, to) pair: its name, who makes the move
(the requester's side, an output checker, or the platform itself), which audit
action it writes and whom it notifies. ``transition()`` is the only code that
changes ``ReleaseRequest.state``; ``docs/airlock-states.md`` is generated from
this table (``hdh airlock diagram``) and a test fails when they drift. Modelled
on OpenSAFELY's airlock (``airlock/business_logic.py``).

People ("may this user?") are answered by ``has_permission``; state ("is this
allowed now?") by this table and ``hdh.airlock.policies``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from hdh.accounts.authorization import has_permission, require_permission
from hdh.airlock import notifications, policies
from hdh.airlock.models import ReleaseRequest
from hdh.airlock.models import Transition as HistoryEntry
from hdh.airlock.states import Actor, State
from hdh.audit import services as audit
from hdh.core import clock
from hdh.core.errors import InvalidState, NotAllowed
from hdh.core.governance import service_writes
from hdh.core.permissions import Permission

S = State
A = Actor


class Notify(enum.StrEnum):
    TEAM = "team"  # the workspace's members
    CHECKERS = "checkers"  # output checkers who may check this request
    REVIEWERS = "reviewers"  # the checkers who reviewed this turn


PERMISSION_OF: dict[Actor, Permission | None] = {
    Actor.REQUESTER: Permission.RELEASE_REQUEST,
    Actor.CHECKER: Permission.RELEASE_REVIEW,
    Actor.SYSTEM: None,
}


@dataclass(frozen=True)
class Transition:
    source: State
    target: State
    name: str
    label: str | Promise
    actor: Actor
    notify: tuple[Notify, ...] = ()
    # Made by a service on the way (a review submitted), not by a button.
    automatic: bool = False

    @property
    def permission(self) -> Permission | None:
        return PERMISSION_OF[self.actor]

    @property
    def audit_action(self) -> str:
        return f"airlock.request.{self.name}"


T = Transition
_TABLE: tuple[Transition, ...] = (
    T(S.PENDING, S.SUBMITTED, "submitted", _("Soumettre au contrôle"), A.REQUESTER,
      (Notify.CHECKERS,)),
    T(S.PENDING, S.WITHDRAWN, "withdrawn", _("Retirer la demande"), A.REQUESTER),
    T(S.SUBMITTED, S.PARTIALLY_REVIEWED, "first_review", _("Premier examen soumis"),
      A.CHECKER, automatic=True),
    T(S.PARTIALLY_REVIEWED, S.REVIEWED, "second_review", _("Second examen soumis"),
      A.CHECKER, (Notify.REVIEWERS,), automatic=True),
    T(S.REVIEWED, S.APPROVED, "approved", _("Approuver la sortie"), A.CHECKER, (Notify.TEAM,)),
    T(S.REVIEWED, S.RETURNED, "returned", _("Renvoyer au demandeur"), A.CHECKER,
      (Notify.TEAM,)),
    T(S.REVIEWED, S.REJECTED, "rejected", _("Refuser la sortie"), A.CHECKER, (Notify.TEAM,)),
    T(S.RETURNED, S.SUBMITTED, "resubmitted", _("Soumettre à nouveau"), A.REQUESTER,
      (Notify.REVIEWERS, Notify.CHECKERS)),
    T(S.RETURNED, S.WITHDRAWN, "withdrawn", _("Retirer la demande"), A.REQUESTER),
    T(S.APPROVED, S.RELEASED, "released", _("Copier les fichiers sortis"), A.SYSTEM,
      (Notify.TEAM,), automatic=True),
)  # fmt: skip
TRANSITIONS: dict[tuple[State, State], Transition] = {(t.source, t.target): t for t in _TABLE}


def find(request: ReleaseRequest, to: State | str) -> Transition:
    """The transition from the request's state to ``to``, or :class:`InvalidState`."""
    source = State(request.state)
    try:
        target = State(to)
    except ValueError as exc:
        raise InvalidState(_("État inconnu : %(to)s") % {"to": str(to)[:40]}) from exc
    found = TRANSITIONS.get((source, target))
    if found is None:
        raise InvalidState(
            _("Une demande « %(source)s » ne peut pas passer à « %(target)s ».")
            % {"source": source.label, "target": target.label}
        )
    return found


def check_actor(found: Transition, request: ReleaseRequest, by: Any) -> None:
    """Raise :class:`NotAllowed` unless ``by`` may make this move (denials are audited)."""
    if found.actor == Actor.SYSTEM:
        if by is not None:
            raise NotAllowed(f"{found.name} is made by the platform only")
        return
    if by is None:
        raise NotAllowed(f"{found.name} needs a person")
    assert found.permission is not None
    require_permission(by, found.permission, request)


def check(request: ReleaseRequest, *, to: State | str, by: Any) -> Transition:
    """Raise unless ``by`` may move ``request`` to ``to`` now.

    Call it before opening the transaction that makes the move, so that the
    audited denial is not rolled back with the refused change.
    """
    request = ReleaseRequest.objects.select_related("workspace__permit").get(pk=request.pk)
    found = find(request, to)
    check_actor(found, request, by)
    policies.check_transition(request, found)
    return found


def available(request: ReleaseRequest, user: Any) -> list[Transition]:
    """The moves ``user`` could make by hand now, for buttons (no audit)."""
    return [
        t
        for (source, _target), t in TRANSITIONS.items()
        if source == request.state
        and not t.automatic
        and t.permission is not None
        and has_permission(user, t.permission, request, audit=False)
    ]


def apply(
    request: ReleaseRequest, *, to: State | str, by: Any, details: dict[str, Any] | None = None
) -> Transition:
    """Make the move inside the caller's transaction (the caller has checked ``by``)."""
    locked = (
        ReleaseRequest.objects.select_for_update().select_related("workspace").get(pk=request.pk)
    )
    found = find(locked, to)
    policies.check_transition(locked, found)
    now = clock.now()
    if found.source == S.RETURNED and found.target == S.SUBMITTED:
        locked.turn += 1
    if found.target == S.SUBMITTED:
        locked.submitted_at = now
    if found.target in (S.APPROVED, S.REJECTED, S.RETURNED):
        locked.decided_at = now
    if found.target == S.RELEASED:
        locked.released_at = now
    locked.state = found.target
    locked.updated_at = now
    with service_writes():
        locked.save()
        HistoryEntry.objects.create(
            request=locked,
            from_state=found.source,
            to_state=found.target,
            turn=locked.turn,
            at=now,
            by=by,
        )
    audit.record(
        action=found.audit_action,
        by=by,
        target=locked,
        details={
            "from": str(found.source),
            "to": str(found.target),
            "request": locked.reference,
            "turn": locked.turn,
            **(details or {}),
        },
    )
    notifications.on_transition(locked, found.notify)
    request.refresh_from_db()
    return found


def transition(
    request: ReleaseRequest,
    *,
    to: State | str,
    by: Any,
    details: dict[str, Any] | None = None,
) -> ReleaseRequest:
    """Move ``request`` to ``to``: checks, state, history, audit, notification.

    Everything but the check's denial happens in one transaction; the audit event
    is written in it, so a failed audit write leaves the request unchanged.
    """
    check(request, to=to, by=by)
    with transaction.atomic():
        apply(request, to=to, by=by, details=details)
    return request
