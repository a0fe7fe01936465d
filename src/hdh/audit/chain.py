"""How an event and a seal are hashed. Pure functions: the verifier and the writer
share them, and an auditor can re-implement them from this page.

    hash_n = SHA-256( hash_{n-1} || 0x0A || canonical_json(event_n) )

where ``canonical_json`` is UTF-8 JSON with sorted keys and no insignificant
whitespace, of the fields listed in ``EVENT_FIELDS``; the first event's
predecessor is 64 zeros. Timestamps are ISO 8601 in UTC with microseconds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

GENESIS = "0" * 64

EVENT_FIELDS = (
    "seq",
    "occurred_at",
    "actor_id",
    "actor_label",
    "action",
    "target_type",
    "target_id",
    "outcome",
    "request_id",
    "details",
)
SEAL_FIELDS = ("day", "head_seq", "head_hash", "event_count", "sealed_at")


def timestamp(value: dt.datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(data: dict[str, Any]) -> bytes:
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def _value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return timestamp(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def event_payload(event: Any) -> dict[str, Any]:
    return {name: _value(getattr(event, name)) for name in EVENT_FIELDS}


def event_hash(prev_hash: str, payload: dict[str, Any]) -> str:
    digest = hashlib.sha256()
    digest.update(prev_hash.encode("ascii"))
    digest.update(b"\n")
    digest.update(canonical(payload))
    return digest.hexdigest()


def seal_payload(seal: Any) -> dict[str, Any]:
    return {name: _value(getattr(seal, name)) for name in SEAL_FIELDS}


def seal_hash(prev_seal_hash: str, payload: dict[str, Any]) -> str:
    return event_hash(prev_seal_hash, payload)
