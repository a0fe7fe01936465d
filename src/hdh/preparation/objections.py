"""The objection register: level-1 pseudonyms only, versioned at every change.

The citizens' portal calls :func:`file_objection` with the person's NIR, birth
date and sex; the register keeps only the level-1 pseudonym the
pseudonymisation service computes from them. Audit events name the entry's
reference and the register version, never the NIR or the pseudonym.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Max, Q

from hdh.audit import services as audit
from hdh.core import clock, ids
from hdh.core.errors import InvalidState, ValidationFailed
from hdh.core.governance import service_writes
from hdh.keys import pseudonyms
from hdh.keys.store import default_store
from hdh.preparation.models import ObjectionChange, ObjectionEntry


def register_version() -> int:
    return int(ObjectionChange.objects.aggregate(v=Max("version"))["v"] or 0)


def _change(entry: ObjectionEntry, kind: str, at: dt.datetime) -> int:
    version = register_version() + 1
    ObjectionChange.objects.create(version=version, entry=entry, kind=kind, at=at)
    return version


def file_objection(
    *,
    nir: object,
    birth_date: object,
    sex: object,
    by: Any = None,
    effective_at: dt.datetime | None = None,
    level1_key: tuple[int, bytes] | None = None,
) -> ObjectionEntry:
    """Register an objection; an active one for the same person is returned as it is."""
    version, key = level1_key or default_store().level1_key()
    try:
        p1 = pseudonyms.level1(nir, birth_date, sex, key=key)
    except pseudonyms.InvalidIdentity as exc:
        raise ValidationFailed(str(exc)) from None
    now = clock.now()
    with transaction.atomic():
        existing = ObjectionEntry.objects.filter(
            pseudonym=p1, key_version=version, withdrawn_at__isnull=True
        ).first()
        if existing is not None:
            return existing
        with service_writes():
            entry = ObjectionEntry.objects.create(
                reference=ids.reference("OPP"),
                pseudonym=p1,
                key_version=version,
                effective_at=effective_at or now,
                filed_at=now,
                filed_by=by if getattr(by, "pk", None) else None,
            )
            register = _change(entry, "filed", now)
        audit.record(
            action="preparation.objection_filed",
            by=by if getattr(by, "pk", None) else None,
            target_type="ObjectionEntry",
            target_id=entry.reference,
            details={"register_version": register},
        )
    return entry


def withdraw_objection(*, reference: object, by: Any = None) -> ObjectionEntry:
    if not isinstance(reference, str) or not 1 <= len(reference) <= 20:
        raise ValidationFailed("unknown objection reference")
    now = clock.now()
    with transaction.atomic():
        entry = ObjectionEntry.objects.select_for_update().filter(reference=reference).first()
        if entry is None:
            raise ValidationFailed("unknown objection reference")
        if entry.withdrawn_at is not None:
            raise InvalidState("this objection is already withdrawn")
        with service_writes():
            entry.withdrawn_at = now
            entry.save(update_fields=["withdrawn_at"])
            register = _change(entry, "withdrawn", now)
        audit.record(
            action="preparation.objection_withdrawn",
            by=by if getattr(by, "pk", None) else None,
            target_type="ObjectionEntry",
            target_id=entry.reference,
            details={"register_version": register},
        )
    return entry


def register_snapshot(as_of: dt.datetime) -> tuple[int, set[str]]:
    """(register version, level-1 pseudonyms) of objections in force at ``as_of``."""
    version = ObjectionChange.objects.filter(at__lte=as_of).aggregate(v=Max("version"))["v"] or 0
    active = ObjectionEntry.objects.filter(effective_at__lte=as_of).filter(
        Q(withdrawn_at__isnull=True) | Q(withdrawn_at__gt=as_of)
    )
    return int(version), set(active.values_list("pseudonym", flat=True))
