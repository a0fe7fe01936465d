"""Every write of the citizens' portal.

Audit events name references and kinds only: never a NIR, a name, a birth date,
a pseudonym or the text of a request.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hmac
from typing import Any

from django.db import transaction
from django.utils.crypto import salted_hmac

from hdh.audit import services as audit
from hdh.citizens.models import ObjectionReceipt, RightsKind, RightsRequest, RightsStatus
from hdh.core import clock, ids
from hdh.core.errors import InvalidState, ValidationFailed
from hdh.core.governance import service_writes
from hdh.keys import pseudonyms
from hdh.keys.store import default_store
from hdh.preparation import objections
from hdh.preparation.models import ObjectionEntry

# The issue fixes a two-month clock for rights requests (GDPR article 12(3):
# one month, extendable by two when requests are complex or numerous).
RIGHTS_DEADLINE_MONTHS = 2


def _actor(by: Any) -> Any:
    return by if getattr(by, "pk", None) else None


def _check(reference: str, birth_date: dt.date) -> str:
    message = f"{reference}|{birth_date.isoformat()}"
    return salted_hmac("hdh.citizens.receipt", message, algorithm="sha256").hexdigest()


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, or the month's last day when it has fewer."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# --- Objections ---------------------------------------------------------------------


def file_objection(
    *, nir: object, birth_date: dt.date, sex: object, by: Any = None
) -> ObjectionEntry:
    """File an objection in the register and keep the receipt's birth-date check."""
    with transaction.atomic():
        entry = objections.file_objection(nir=nir, birth_date=birth_date, sex=sex, by=_actor(by))
        if not ObjectionReceipt.objects.filter(reference=entry.reference).exists():
            with service_writes():
                ObjectionReceipt.objects.create(
                    reference=entry.reference,
                    birth_check=_check(entry.reference, birth_date),
                    filed_at=clock.now(),
                )
        audit.record(
            action="citizens.objection_receipt",
            by=_actor(by),
            target_type="ObjectionEntry",
            target_id=entry.reference,
            details={"channel": "portal"},
        )
    return entry


def find_objection(*, reference: str, birth_date: dt.date) -> ObjectionEntry | None:
    """The objection of this reference when the birth date matches; ``None`` otherwise."""
    reference = reference.strip().upper()[:20]
    receipt = ObjectionReceipt.objects.filter(reference=reference).first()
    if receipt is None or not hmac.compare_digest(
        receipt.birth_check, _check(reference, birth_date)
    ):
        return None
    return ObjectionEntry.objects.filter(reference=reference).first()


def withdraw_objection(*, reference: str, birth_date: dt.date, by: Any = None) -> ObjectionEntry:
    entry = find_objection(reference=reference, birth_date=birth_date)
    if entry is None:
        raise ValidationFailed("unknown reference or birth date")
    if entry.withdrawn_at is not None:
        raise InvalidState("this objection is already withdrawn")
    return objections.withdraw_objection(reference=entry.reference, by=_actor(by))


# --- Rights requests ----------------------------------------------------------------


def file_rights_request(
    *,
    kind: str,
    message: str,
    last_name: str,
    first_name: str,
    birth_date: dt.date,
    email: str,
    nir: str = "",
    sex: int | None = None,
    by: Any = None,
) -> RightsRequest:
    if kind not in RightsKind.values:
        raise ValidationFailed("unknown kind of request")
    pseudonym = ""
    if nir:
        if sex is None:
            raise ValidationFailed("the sex is needed with the NIR")
        try:
            pseudonym = pseudonyms.level1(nir, birth_date, sex, key=default_store().level1_key()[1])
        except pseudonyms.InvalidIdentity as exc:
            raise ValidationFailed(str(exc)) from None
    now = clock.now()
    with transaction.atomic():
        with service_writes():
            request = RightsRequest.objects.create(
                reference=ids.reference("DRT"),
                kind=kind,
                message=message,
                last_name=last_name,
                first_name=first_name,
                birth_date=birth_date,
                email=email,
                pseudonym=pseudonym,
                filed_at=now,
                due_on=add_months(clock.today(), RIGHTS_DEADLINE_MONTHS),
            )
        audit.record(
            action="citizens.rights_request_filed",
            by=_actor(by),
            target_type="RightsRequest",
            target_id=request.reference,
            details={"kind": kind, "due_on": request.due_on.isoformat()},
        )
    return request


def find_rights_request(*, reference: str, birth_date: dt.date) -> RightsRequest | None:
    reference = reference.strip().upper()[:20]
    request = RightsRequest.objects.filter(reference=reference).first()
    if request is None or request.birth_date != birth_date:
        return None
    return request


def answer_rights_request(*, request: RightsRequest, answer: str, by: Any) -> RightsRequest:
    if not answer.strip():
        raise ValidationFailed("an answer cannot be empty")
    now = clock.now()
    with transaction.atomic():
        locked = RightsRequest.objects.select_for_update().get(pk=request.pk)
        if locked.status == RightsStatus.ANSWERED:
            raise InvalidState("this request is already answered")
        overdue = locked.is_overdue(clock.today())
        with service_writes():
            locked.answer = answer
            locked.status = RightsStatus.ANSWERED
            locked.answered_at = now
            locked.answered_by = by
            locked.save(update_fields=["answer", "status", "answered_at", "answered_by"])
        audit.record(
            action="citizens.rights_request_answered",
            by=by,
            target_type="RightsRequest",
            target_id=locked.reference,
            details={"kind": locked.kind, "overdue": overdue},
        )
    return locked
