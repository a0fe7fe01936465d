"""What the platform keeps in a signed-in session, and the questions asked of it.

Times are POSIX timestamps from :mod:`hdh.core.clock`, so tests can move them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase

from hdh.accounts.authorization import user_roles
from hdh.accounts.models import TOTPDevice
from hdh.core import clock
from hdh.core.permissions import ROLES

AUTHENTICATED_AT = "hdh_authenticated_at"
LAST_SEEN_AT = "hdh_last_seen_at"
SECOND_FACTOR_AT = "hdh_second_factor_at"
NOTICE = "hdh_notice"

# Writing the session on every request costs a database write; the idle
# timeout does not need a precision finer than this.
LAST_SEEN_RESOLUTION = dt.timedelta(seconds=60)


def _ts(at: dt.datetime) -> float:
    return at.timestamp()


def start(session: SessionBase) -> None:
    """Stamp a session that has just been signed in."""
    now = _ts(clock.now())
    session[AUTHENTICATED_AT] = now
    session[LAST_SEEN_AT] = now
    session.pop(SECOND_FACTOR_AT, None)


def second_factor_passed(session: SessionBase) -> bool:
    return session.get(SECOND_FACTOR_AT) is not None


def mark_second_factor_passed(session: SessionBase) -> None:
    session[SECOND_FACTOR_AT] = _ts(clock.now())
    # The session gains privileges: give it a new key (ASVS 7.2.4).
    session.cycle_key()


def expiry_reason(session: SessionBase) -> str | None:
    """``"idle"``, ``"absolute"`` or ``"unknown"`` when the session must end, else None."""
    authenticated_at = session.get(AUTHENTICATED_AT)
    last_seen_at = session.get(LAST_SEEN_AT)
    if not isinstance(authenticated_at, int | float) or not isinstance(last_seen_at, int | float):
        # A signed-in session we did not stamp: fail closed.
        return "unknown"
    now = _ts(clock.now())
    if now - authenticated_at >= settings.HDH_SESSION_MAX_HOURS * 3600:
        return "absolute"
    if now - last_seen_at >= settings.HDH_SESSION_IDLE_MINUTES * 60:
        return "idle"
    return None


def touch(session: SessionBase) -> None:
    now = _ts(clock.now())
    last_seen_at = session.get(LAST_SEEN_AT) or 0.0
    if now - last_seen_at >= LAST_SEEN_RESOLUTION.total_seconds():
        session[LAST_SEEN_AT] = now


def needs_second_factor(user: Any) -> bool:
    """SNDS security rules: two factors for anyone who can see non-public data.

    Staff of the Django admin and anyone who chose to enrol also need it.
    """
    if not getattr(user, "is_authenticated", False):
        return False
    if getattr(user, "is_staff", False) or getattr(user, "is_superuser", False):
        return True
    if any(ROLES[role].sees_non_public_data for role in user_roles(user)):
        return True
    return has_confirmed_device(user)


def has_confirmed_device(user: Any) -> bool:
    return TOTPDevice.objects.filter(user_id=user.pk, confirmed_at__isnull=False).exists()
