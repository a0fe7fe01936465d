"""The regulator's decision, the permit it creates, and the life of an authorised project."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from hdh.access import deadlines, workflow
from hdh.access.models import Application, Decision, DecisionOutcome, Permit
from hdh.access.services._common import require_on, require_text
from hdh.access.states import Stage, State
from hdh.accounts.models import User
from hdh.audit import services as audit
from hdh.core import clock, ids
from hdh.core.errors import InvalidState, ValidationFailed
from hdh.core.governance import service_writes
from hdh.core.permissions import Permission

# An authorisation longer than this is a typing mistake (SNDS data are kept 20 years).
MAX_PERMIT_YEARS = 20


def decide(
    *,
    by: User,
    application: Application,
    outcome: str,
    rationale: str,
    conditions: str = "",
    end_date: dt.date | None = None,
) -> Decision:
    """Authorise (with conditions and an end date) or refuse; a rationale either way."""
    if outcome not in DecisionOutcome.values:
        raise ValidationFailed(_("Décision inconnue."), ["outcome"])
    rationale = require_text(rationale, _("Motivation"))
    target = State(outcome)
    workflow.find(application, target)
    require_on(by, Permission.APPLICATION_DECIDE, application)
    if outcome == DecisionOutcome.AUTHORISED:
        _check_end_date(end_date)
    with transaction.atomic():
        with service_writes():
            decision = Decision.objects.create(
                application=application,
                outcome=outcome,
                rationale=rationale,
                conditions=conditions.strip(),
                end_date=end_date if outcome == DecisionOutcome.AUTHORISED else None,
                decided_by=by,
                decided_at=clock.now(),
            )
        workflow.transition(application, to=target, by=by, note=rationale)
        if target == State.AUTHORISED:
            issue_permit(application=application, conditions=conditions, end_date=end_date)
    return decision


def _check_end_date(end_date: dt.date | None) -> None:
    today = clock.today()
    if end_date is None:
        raise ValidationFailed(_("Indiquez la date de fin de l'autorisation."), ["end_date"])
    if end_date <= today:
        raise ValidationFailed(_("La date de fin doit être dans le futur."), ["end_date"])
    if end_date > today.replace(year=today.year + MAX_PERMIT_YEARS):
        raise ValidationFailed(
            _("Une autorisation ne dépasse pas %(years)s ans.") % {"years": MAX_PERMIT_YEARS},
            ["end_date"],
        )


def issue_permit(*, application: Application, conditions: str, end_date: dt.date | None) -> Permit:
    """Freeze what was authorised: perimeter, members, period, end date. Caller holds the
    transaction and has just moved the application to ``authorised``."""
    if application.state != State.AUTHORISED:
        raise InvalidState("a permit follows an authorisation")
    if end_date is None:
        months = application.duration_months or 12
        end_date = deadlines.add_months(clock.now(), months).date()
    perimeter = [
        {
            "base": item.base.slug,
            "table": item.table.name if item.table_id else None,
            "variable": item.variable.name if item.variable_id else None,
        }
        for item in application.perimeter.select_related("base", "table", "variable")
    ]
    members = [
        {"user_id": m.user_id, "username": m.user.username, "role": m.role}
        for m in application.team.select_related("user")
    ]
    with service_writes():
        permit = Permit.objects.create(
            reference=ids.reference("AUT", 8),
            application=application,
            project=application.project,
            perimeter=perimeter,
            members=members,
            period_start=application.period_start,
            period_end=application.period_end,
            conditions=conditions.strip(),
            end_date=end_date,
            issued_at=clock.now(),
        )
    _supersede(application, permit)
    audit.record(
        action="access.permit.issued",
        target=permit,
        details={
            "application_id": application.pk,
            "end_date": end_date.isoformat(),
            "members": len(members),
            "perimeter_items": len(perimeter),
        },
    )
    return permit


def _supersede(application: Application, permit: Permit) -> None:
    """An authorised amendment or renewal replaces the project's earlier permit and file."""
    earlier = Permit.objects.filter(project_id=application.project_id, closed_at__isnull=True)
    for old in earlier.exclude(pk=permit.pk).select_related("application"):
        if old.application.state in workflow.CLOSABLE:
            workflow.transition(
                old.application,
                to=State.CLOSED,
                by=None,
                note="superseded",
                details={"superseded_by": permit.reference},
            )
        old.closed_at = clock.now()
        with service_writes():
            old.save(update_fields=["closed_at"])
        audit.record(
            action="access.permit.superseded",
            target=old,
            details={"superseded_by": permit.reference},
        )


def extend_decision_deadline(*, by: User, application: Application) -> Application:
    """The regulator's delay is renewable once (Loi informatique et libertés, art. 66)."""
    require_on(by, Permission.APPLICATION_DECIDE, application)
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        if locked.stage != Stage.DECISION or locked.stage_due_at is None:
            raise InvalidState(_("Seul le délai de décision peut être prolongé."))
        if locked.stage_extended:
            raise InvalidState(_("Le délai de décision a déjà été prolongé une fois."))
        locked.stage_due_at = deadlines.delay_for("decision_extension").after(locked.stage_due_at)
        locked.stage_extended = True
        with service_writes():
            locked.save(update_fields=["stage_due_at", "stage_extended"])
        audit.record(
            action="access.application.deadline_extended",
            by=by,
            target=locked,
            details={"due": locked.stage_due_at.isoformat()},
        )
    application.refresh_from_db()
    return application


def sign_contract(*, by: User, application: Application) -> Application:
    return workflow.transition(application, to=State.CONTRACT_SIGNED, by=by)


def start_preparation(*, by: User, application: Application) -> Application:
    return workflow.transition(application, to=State.DATA_PREPARATION, by=by)


def open_workspace(*, by: User, application: Application) -> Application:
    return workflow.transition(application, to=State.WORKSPACE_OPEN, by=by)


def close(*, by: User | None, application: Application, note: str = "") -> Application:
    """Close the project: its permit ends and access closes with it."""
    workflow.check(application, to=State.CLOSED, by=by)
    with transaction.atomic():
        workflow.transition(application, to=State.CLOSED, by=by, note=note[:10000])
        permit = Permit.objects.filter(application=application).first()
        if permit is not None and permit.closed_at is None:
            permit.closed_at = clock.now()
            with service_writes():
                permit.save(update_fields=["closed_at"])
            audit.record(action="access.permit.closed", by=by, target=permit)
    return application


def close_expired(*, today: dt.date | None = None) -> list[Any]:
    """Close every project whose permit has ended (run daily by the worker or cron)."""
    today = today or clock.today()
    closed = []
    expired = Permit.objects.filter(closed_at__isnull=True, end_date__lt=today).select_related(
        "application"
    )
    for permit in expired:
        application = permit.application
        if application.state in workflow.CLOSABLE:
            close(by=None, application=application, note="permit expired")
            closed.append(application.project.reference)
    return closed
