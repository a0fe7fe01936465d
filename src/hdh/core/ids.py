"""Identifiers that the platform hands out."""

from __future__ import annotations

import secrets
import uuid

# Crockford base32: no I, L, O, U, so references survive being read aloud or typed.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_uuid() -> uuid.UUID:
    return uuid.uuid4()


def request_id() -> str:
    """A random id that ties together everything done while serving one request."""
    return secrets.token_hex(16)


def reference(prefix: str, length: int = 10) -> str:
    """A human-friendly reference such as ``APP-7K2M9QX4TB``."""
    body = "".join(secrets.choice(_ALPHABET) for _ in range(length))
    return f"{prefix}-{body}"
