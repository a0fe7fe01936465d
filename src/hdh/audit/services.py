"""Writing to the audit log. ``record()`` is the only way in.

It must run inside the transaction of the change it records (it opens a savepoint
when one is already open), so the change and its evidence commit or roll back
together.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from hdh.audit import chain
from hdh.audit.models import AuditEvent, AuditSeal, Outcome
from hdh.core import clock
from hdh.core.middleware import current_request_id
from hdh.core.redaction import is_secret_key, looks_like_nir

MAX_DETAILS_BYTES = 8192
_ACTION = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+){1,5}$")
# A constant key for PostgreSQL's transaction-level advisory lock that serialises
# writers of the chain head ("hdh" + "audit" as an int64).
_CHAIN_LOCK_KEY = 0x6864_6861_7564_6974


class UnsafeAuditDetails(ValueError):
    """The caller tried to put a secret, a direct identifier or too much data in the log."""


def _clean_details(details: dict[str, Any], path: str = "details") -> dict[str, Any]:
    cleaned = {}
    for key, value in details.items():
        where = f"{path}.{key}"
        if not isinstance(key, str):
            raise UnsafeAuditDetails(f"{where}: keys must be strings")
        if is_secret_key(key):
            raise UnsafeAuditDetails(f"{where}: secrets never go into the audit log")
        cleaned[key.replace("\x00", "\ufffd")] = _clean_value(value, where)
    return cleaned


def _clean_value(value: Any, where: str) -> Any:
    if isinstance(value, dict):
        return _clean_details(value, where)
    if isinstance(value, list | tuple):
        return [_clean_value(item, f"{where}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, str):
        if looks_like_nir(value):
            raise UnsafeAuditDetails(f"{where}: looks like a national identifier")
        # PostgreSQL's jsonb cannot hold NUL; keep the event, mark the character.
        return value.replace("\x00", "\ufffd")
    if value is None or isinstance(value, bool | int | float):
        return value
    raise UnsafeAuditDetails(f"{where}: unsupported type {type(value).__name__}")


def _text(value: Any, limit: int) -> str:
    return str(value).replace("\x00", "\ufffd")[:limit]


def _actor(by: Any) -> tuple[str, str]:
    if by is None or not getattr(by, "is_authenticated", False):
        return "", ""
    return _text(by.pk, 64), _text(by.get_username(), 150)


def _target(target: Any, target_type: str, target_id: str) -> tuple[str, str]:
    if target is not None:
        meta = getattr(target, "_meta", None)
        target_type = target_type or (meta.label_lower if meta else type(target).__name__)
        target_id = target_id or str(getattr(target, "pk", "") or "")
    return _text(target_type, 100), _text(target_id, 100)


def _lock_head() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
    # SQLite: settings open every transaction IMMEDIATE, so the write lock is
    # already held; the unique seq is the last line of defence either way.


def record(
    *,
    action: str,
    by: Any = None,
    target: Any = None,
    target_type: str = "",
    target_id: str = "",
    outcome: str = Outcome.SUCCESS,
    details: dict[str, Any] | None = None,
    request_id: str | None = None,
) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction."""
    if not _ACTION.match(action):
        raise ValueError(f"an audit action is a dotted lower-case name, got {action[:40]!r}")
    if outcome not in Outcome.values:
        raise ValueError(f"unknown audit outcome {outcome!r}")
    details = _clean_details(dict(details or {}))
    # Round-trip through JSON so what is hashed is exactly what the database returns.
    try:
        encoded = json.dumps(details, sort_keys=True, allow_nan=False)
    except ValueError as exc:
        raise UnsafeAuditDetails(f"details are not valid JSON: {exc}") from exc
    if len(encoded.encode("utf-8")) > MAX_DETAILS_BYTES:
        raise UnsafeAuditDetails(f"details exceed {MAX_DETAILS_BYTES} bytes")
    details = json.loads(encoded)
    actor_id, actor_label = _actor(by)
    target_type, target_id = _target(target, target_type, target_id)
    rid = request_id if request_id is not None else (current_request_id.get() or "")

    with transaction.atomic():
        _lock_head()
        head = AuditEvent.objects.order_by("-seq").only("seq", "hash").first()
        event = AuditEvent(
            seq=(head.seq + 1) if head else 1,
            occurred_at=clock.now(),
            actor_id=actor_id,
            actor_label=actor_label,
            action=action,
            target_type=target_type,
            target_id=target_id,
            outcome=outcome,
            request_id=_text(rid, 64),
            details=details,
            prev_hash=head.hash if head else chain.GENESIS,
        )
        event.hash = chain.event_hash(event.prev_hash, chain.event_payload(event))
        event.save()
    return event


def _append_anchor(seal: AuditSeal) -> None:
    """Append the seal to the anchor file, durably, readable by the owner only."""
    anchor = Path(settings.HDH_AUDIT_ANCHOR)
    anchor.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(
        {
            **chain.seal_payload(seal),
            "prev_seal_hash": seal.prev_seal_hash,
            "seal_hash": seal.seal_hash,
        },
        sort_keys=True,
    )
    fd = os.open(anchor, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, (line + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def seal_day(*, day: dt.date) -> AuditSeal:
    """Seal the chain as it stood at the end of ``day`` (UTC). Idempotent."""
    if day >= clock.today():
        raise ValueError("only a day that has ended can be sealed")
    existing = AuditSeal.objects.filter(day=day).first()
    if existing is not None:
        return existing
    day_end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    with transaction.atomic():
        _lock_head()
        previous = AuditSeal.objects.order_by("-day").first()
        if previous is not None and previous.day > day:
            raise ValueError(f"cannot seal {day}: a later day ({previous.day}) is already sealed")
        head = (
            AuditEvent.objects.filter(occurred_at__lt=day_end)
            .order_by("-seq")
            .only("seq", "hash")
            .first()
        )
        # Never seal below a previous seal's head, even if clocks went backwards.
        if previous is not None and (head is None or head.seq < previous.head_seq):
            head_seq, head_hash = previous.head_seq, previous.head_hash
        else:
            head_seq = head.seq if head else 0
            head_hash = head.hash if head else chain.GENESIS
        seal = AuditSeal(
            day=day,
            head_seq=head_seq,
            head_hash=head_hash,
            event_count=head_seq,
            sealed_at=clock.now(),
            prev_seal_hash=previous.seal_hash if previous else chain.GENESIS,
        )
        seal.seal_hash = chain.seal_hash(seal.prev_seal_hash, chain.seal_payload(seal))
        seal.save()
        record(
            action="audit.sealed",
            target=seal,
            details={"day": day.isoformat(), "head_seq": head_seq, "event_count": head_seq},
        )
        transaction.on_commit(lambda: _append_anchor(seal))
    return seal


def seal_pending_days() -> list[AuditSeal]:
    """Seal every ended UTC day since the first event (or the last seal)."""
    last = AuditSeal.objects.order_by("-day").first()
    if last is not None:
        start = last.day + dt.timedelta(days=1)
    else:
        first = AuditEvent.objects.order_by("seq").only("occurred_at").first()
        if first is None:
            return []
        start = first.occurred_at.astimezone(dt.UTC).date()
    sealed = []
    day = start
    yesterday = clock.today() - dt.timedelta(days=1)
    while day <= yesterday:
        sealed.append(seal_day(day=day))
        day += dt.timedelta(days=1)
    return sealed
