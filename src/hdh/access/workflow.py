"""The guichet's workflow as one table, and the one function that moves an application.

``TRANSITIONS`` says, for each (from, to) pair: its name, which permission the
actor needs (``None``: only the platform itself, e.g. on expiry), for which legal
routes it exists (fast tracks skip stages), which audit action it writes and
whom it notifies. ``transition()`` is the only code that changes
``Application.state``; the diagram in ``docs/access-workflow.md`` is generated
from this table (``hdh access diagram``) and a test fails when they drift.

People ("may this user?") are answered by ``has_permission``; state ("is this
allowed now?") by this table and ``hdh.access.policies``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from hdh.access import deadlines, notifications, policies
from hdh.access.models import Application, StageEntry
from hdh.access.states import (
    ALL_ROUTES,
    DECLARATION_ONLY,
    OPINION_ONLY,
    Holder,
    Kind,
    LegalRoute,
    Stage,
    State,
)
from hdh.accounts.authorization import has_permission, require_permission
from hdh.audit import services as audit
from hdh.core import clock
from hdh.core.errors import InvalidState, NotAllowed
from hdh.core.governance import service_writes
from hdh.core.permissions import Permission

S = State
P = Permission


class Notify(enum.StrEnum):
    TEAM = "team"
    OFFICERS = "officers"
    COMMITTEE = "committee"
    REGULATORS = "regulators"
    DATA_ENGINEERS = "data_engineers"


@dataclass(frozen=True)
class Transition:
    source: State
    target: State
    name: str
    label: str | Promise
    permission: Permission | None
    notify: tuple[Notify, ...] = (Notify.TEAM,)
    routes: frozenset[LegalRoute] = ALL_ROUTES
    # The platform may also make this move on its own (``by=None``), e.g. on expiry.
    system: bool = False
    # Routes on which amendments and renewals (the lighter workflow) take this move;
    # ``None``: the same as initial applications.
    amendment_routes: frozenset[LegalRoute] | None = None
    # A second permission that also allows the move (e.g. the guichet officer records
    # the committee's opinion when its chair cannot).
    alternative: Permission | None = None

    def allows(self, user: Any, application: Application, *, audit: bool) -> bool:
        if self.alternative is not None and has_permission(
            user, self.alternative, application, audit=False
        ):
            return True
        assert self.permission is not None
        return has_permission(user, self.permission, application, audit=audit)

    @property
    def audit_action(self) -> str:
        return f"access.application.{self.name}"

    def routes_for(self, kind: str) -> frozenset[LegalRoute]:
        if kind == Kind.INITIAL or self.amendment_routes is None:
            return self.routes
        return self.amendment_routes

    def applies_to(self, application: Application) -> bool:
        return application.legal_route in self.routes_for(application.kind)


STANDARD = frozenset({LegalRoute.STANDARD})
NO_ROUTE: frozenset[LegalRoute] = frozenset()
REVIEWED = STANDARD | OPINION_ONLY
T = Transition
_TABLE: tuple[Transition, ...] = (
    T(S.DRAFT, S.SUBMITTED, "submitted", _("Déposer la demande"), P.APPLICATION_EDIT,
      (Notify.TEAM, Notify.OFFICERS)),
    T(S.SUBMITTED, S.ADMISSIBILITY, "taken_up", _("Prendre en charge"),
      P.APPLICATION_ADMISSIBILITY),
    T(S.ADMISSIBILITY, S.RETURNED, "returned", _("Renvoyer au demandeur"),
      P.APPLICATION_ADMISSIBILITY),
    T(S.RETURNED, S.ADMISSIBILITY, "resubmitted", _("Renvoyer la demande complétée"),
      P.APPLICATION_EDIT, (Notify.OFFICERS,)),
    T(S.ADMISSIBILITY, S.SCIENTIFIC_REVIEW, "admissible", _("Déclarer recevable"),
      P.APPLICATION_ADMISSIBILITY, (Notify.TEAM, Notify.COMMITTEE), REVIEWED,
      amendment_routes=NO_ROUTE),
    T(S.ADMISSIBILITY, S.AUTHORISED, "declaration_registered",
      _("Enregistrer la déclaration"), P.APPLICATION_ADMISSIBILITY,
      (Notify.TEAM, Notify.OFFICERS), DECLARATION_ONLY,
      amendment_routes=ALL_ROUTES - STANDARD),
    # The lighter workflow: an amendment or renewal of an authorised project goes
    # straight to the regulator (standard route) or is registered by the guichet.
    T(S.ADMISSIBILITY, S.REGULATOR_REVIEW, "amendment_forwarded",
      _("Transmettre à l'autorité"), P.APPLICATION_ADMISSIBILITY,
      (Notify.TEAM, Notify.REGULATORS), NO_ROUTE, amendment_routes=STANDARD),
    T(S.ADMISSIBILITY, S.REFUSED, "inadmissible", _("Déclarer irrecevable"),
      P.APPLICATION_ADMISSIBILITY),
    T(S.SCIENTIFIC_REVIEW, S.RETURNED, "information_requested",
      _("Demander des compléments"), P.APPLICATION_REVIEW),
    T(S.RETURNED, S.SCIENTIFIC_REVIEW, "information_provided",
      _("Renvoyer la demande complétée"), P.APPLICATION_EDIT, (Notify.COMMITTEE,)),
    # The committee's opinion, recorded by the file's chair (or the guichet officer)
    # once the quorum of votes is reached (hdh.access.committee).
    T(S.SCIENTIFIC_REVIEW, S.REGULATOR_REVIEW, "opinion_given", _("Rendre l'avis du comité"),
      P.APPLICATION_REVIEW, (Notify.TEAM, Notify.REGULATORS), STANDARD,
      alternative=P.APPLICATION_ADMISSIBILITY),
    T(S.SCIENTIFIC_REVIEW, S.AUTHORISED, "opinion_favourable",
      _("Rendre l'avis du comité"), P.APPLICATION_REVIEW, (Notify.TEAM, Notify.OFFICERS),
      OPINION_ONLY, alternative=P.APPLICATION_ADMISSIBILITY),
    T(S.SCIENTIFIC_REVIEW, S.REFUSED, "opinion_unfavourable",
      _("Rendre l'avis du comité"), P.APPLICATION_REVIEW, (Notify.TEAM,), OPINION_ONLY,
      alternative=P.APPLICATION_ADMISSIBILITY),
    T(S.REGULATOR_REVIEW, S.AUTHORISED, "authorised", _("Autoriser"), P.APPLICATION_DECIDE,
      (Notify.TEAM, Notify.OFFICERS), STANDARD),
    T(S.REGULATOR_REVIEW, S.REFUSED, "refused", _("Refuser"), P.APPLICATION_DECIDE,
      (Notify.TEAM, Notify.OFFICERS), STANDARD),
    T(S.AUTHORISED, S.CONTRACT_SIGNED, "contract_signed", _("Enregistrer la convention signée"),
      P.APPLICATION_CONTRACT, (Notify.TEAM, Notify.DATA_ENGINEERS)),
    T(S.CONTRACT_SIGNED, S.DATA_PREPARATION, "preparation_started",
      _("Commencer la préparation"), P.PREPARATION_RUN),
    T(S.DATA_PREPARATION, S.WORKSPACE_OPEN, "workspace_opened", _("Ouvrir l'espace projet"),
      P.PREPARATION_RUN),
    *(
        T(source, S.CLOSED, "closed", _("Clôturer"), P.APPLICATION_CONTRACT, system=True)
        for source in (S.AUTHORISED, S.CONTRACT_SIGNED, S.DATA_PREPARATION, S.WORKSPACE_OPEN)
    ),
    *(
        T(source, S.WITHDRAWN, "withdrawn", _("Retirer la demande"), P.APPLICATION_EDIT,
          (Notify.TEAM, Notify.OFFICERS))
        for source in (
            S.DRAFT, S.SUBMITTED, S.ADMISSIBILITY, S.RETURNED, S.SCIENTIFIC_REVIEW,
            S.REGULATOR_REVIEW,
        )
    ),
)  # fmt: skip
TRANSITIONS: dict[tuple[State, State], Transition] = {(t.source, t.target): t for t in _TABLE}
CLOSABLE = frozenset(source for (source, target) in TRANSITIONS if target == S.CLOSED)

# Who holds the file in each state, and which deadline runs.
HOLDERS: dict[State, Holder] = {
    S.DRAFT: Holder.APPLICANT,
    S.SUBMITTED: Holder.PLATFORM,
    S.ADMISSIBILITY: Holder.PLATFORM,
    S.RETURNED: Holder.APPLICANT,
    S.SCIENTIFIC_REVIEW: Holder.REVIEWER,
    S.REGULATOR_REVIEW: Holder.REGULATOR,
    S.AUTHORISED: Holder.PLATFORM,
    S.CONTRACT_SIGNED: Holder.DATA_HOLDER,
    S.DATA_PREPARATION: Holder.DATA_HOLDER,
    S.WORKSPACE_OPEN: Holder.PROJECT,
    S.CLOSED: Holder.NOBODY,
    S.WITHDRAWN: Holder.NOBODY,
    S.REFUSED: Holder.NOBODY,
}
STAGES: dict[State, Stage] = {
    S.SUBMITTED: Stage.ADMISSIBILITY,
    S.ADMISSIBILITY: Stage.ADMISSIBILITY,
    S.SCIENTIFIC_REVIEW: Stage.OPINION,
    S.REGULATOR_REVIEW: Stage.DECISION,
    S.AUTHORISED: Stage.CONTRACT,
    S.CONTRACT_SIGNED: Stage.PREPARATION,
    S.DATA_PREPARATION: Stage.PREPARATION,
}


def find(application: Application, to: State | str) -> Transition:
    """The transition from the application's state to ``to``, or :class:`InvalidState`."""
    source = State(application.state)
    try:
        target = State(to)
    except ValueError as exc:
        raise InvalidState(_("État inconnu : %(to)s") % {"to": str(to)[:40]}) from exc
    found = TRANSITIONS.get((source, target))
    if found is None or not found.applies_to(application):
        raise InvalidState(
            _("Une demande « %(source)s » ne peut pas passer à « %(target)s ».")
            % {"source": source.label, "target": target.label}
        )
    return found


def check(application: Application, *, to: State | str, by: Any) -> Transition:
    """Raise unless ``by`` may move ``application`` to ``to`` now. Denials are audited.

    Call it before opening the transaction that makes the move, so that the
    audited denial is not rolled back with the refused change.
    """
    # Judge the row as stored, not a copy the caller may hold from before a change.
    application = Application.objects.select_related("project").get(pk=application.pk)
    found = find(application, to)
    if by is None:
        if not found.system:
            raise NotAllowed(f"{found.name} needs a person")
    elif found.alternative is None or not found.allows(by, application, audit=False):
        assert found.permission is not None
        require_permission(by, found.permission, application)
    policies.check_transition(application, found)
    return found


def available(application: Application, user: Any) -> list[Transition]:
    """The moves ``user`` could make now, for buttons (no audit)."""
    return [
        t
        for (source, _target), t in TRANSITIONS.items()
        if source == application.state
        and t.applies_to(application)
        and t.permission is not None
        and t.allows(user, application, audit=False)
    ]


def transition(
    application: Application,
    *,
    to: State | str,
    by: Any,
    note: str = "",
    details: dict[str, Any] | None = None,
) -> Application:
    """Move ``application`` to ``to``: checks, state, clock, history, audit, notification.

    Everything but the check's denial happens in one transaction; the audit event
    is written in it, so a failed audit write leaves the application unchanged.
    """
    check(application, to=to, by=by)
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        found = find(locked, to)
        policies.check_transition(locked, found)
        now = clock.now()
        _move_clock(locked, found, now)
        if found.target == S.RETURNED:
            locked.returned_from = found.source
        elif found.source == S.RETURNED:
            locked.returned_from = ""
        if found.target == S.SUBMITTED:
            locked.submitted_at = now
        locked.state = found.target
        locked.holder = HOLDERS[found.target]
        locked.updated_at = now
        with service_writes():
            locked.save()
            StageEntry.objects.create(
                application=locked,
                from_state=found.source,
                to_state=found.target,
                holder=locked.holder,
                at=now,
                by=by if by is not None else None,
                note=note,
            )
        audit.record(
            action=found.audit_action,
            by=by,
            target=locked,
            details={
                "from": str(found.source),
                "to": str(found.target),
                "route": locked.legal_route,
                "project": locked.project.reference,
                **(details or {}),
            },
        )
        notifications.on_transition(locked, found.target, found.notify)
    application.refresh_from_db()
    return application


def _move_clock(application: Application, found: Transition, now: Any) -> None:
    if found.target == S.RETURNED:
        # The applicant holds the file: the stage's clock stops until it comes back.
        application.paused_at = now
        return
    if found.source == S.RETURNED and application.paused_at is not None:
        if application.stage_due_at is not None:
            application.stage_due_at += now - application.paused_at
        application.paused_at = None
    stage = STAGES.get(found.target)
    if stage is None:
        application.stage = ""
        application.stage_started_at = None
        application.stage_due_at = None
        application.stage_extended = False
    elif stage != application.stage:
        application.stage = stage
        application.stage_started_at = now
        application.stage_due_at = deadlines.due_at(stage, application.legal_route, now)
        application.stage_extended = False
