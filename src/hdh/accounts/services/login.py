"""Signing in: password check, failure counting and lock-out, sign-in and sign-out events.

Lock-out (ASVS 6.3): ``HDH_LOCKOUT_THRESHOLD`` consecutive failures, each within
``HDH_LOCKOUT_WINDOW_MINUTES`` of the previous one, lock the account for
``HDH_LOCKOUT_MINUTES``. Wrong second-factor codes count as failures too. While
locked, even the right password is refused, and the answer to the person at the
login page is the same as for a wrong password or an unknown name (ASVS 6.3.8).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction

from hdh.accounts.models import User
from hdh.accounts.session import needs_second_factor
from hdh.audit import services as audit
from hdh.core import clock


@dataclass(frozen=True)
class LoginAttempt:
    """The outcome of a password check. ``user`` is set only when it succeeded."""

    user: User | None
    second_factor_required: bool = False


def _where(ip: str | None) -> dict[str, Any]:
    return {"ip": ip} if ip else {}


def record_login_failure(
    *, user: User, reason: str, ip: str | None = None, action: str = "accounts.login.failed"
) -> bool:
    """Count one failure for ``user`` and lock the account at the threshold.

    Returns whether the account is (now) locked. Runs inside the caller's
    transaction when there is one; the row is locked to count concurrent tries.
    """
    now = clock.now()
    window = dt.timedelta(minutes=settings.HDH_LOCKOUT_WINDOW_MINUTES)
    with transaction.atomic():
        fresh = User.objects.select_for_update().get(pk=user.pk)
        if fresh.last_failed_login_at is None or now - fresh.last_failed_login_at > window:
            fresh.failed_login_count = 0
        fresh.failed_login_count += 1
        fresh.last_failed_login_at = now
        locked_now = fresh.failed_login_count >= settings.HDH_LOCKOUT_THRESHOLD
        if locked_now:
            fresh.locked_until = now + dt.timedelta(minutes=settings.HDH_LOCKOUT_MINUTES)
            # The lock is the record of these failures; after it, count afresh.
            fresh.failed_login_count = 0
        fresh.save(update_fields=["failed_login_count", "last_failed_login_at", "locked_until"])
        audit.record(
            action=action,
            by=None,
            target=fresh,
            outcome="failure",
            details={"reason": reason, **_where(ip)},
        )
        if locked_now:
            audit.record(
                action="accounts.login.locked",
                by=None,
                target=fresh,
                outcome="failure",
                details={"minutes": settings.HDH_LOCKOUT_MINUTES, **_where(ip)},
            )
    user.failed_login_count = fresh.failed_login_count
    user.last_failed_login_at = fresh.last_failed_login_at
    user.locked_until = fresh.locked_until
    return fresh.is_locked()


def _clear_failures(user: User) -> None:
    if user.failed_login_count or user.locked_until or user.last_failed_login_at:
        User.objects.filter(pk=user.pk).update(
            failed_login_count=0, locked_until=None, last_failed_login_at=None
        )
        user.failed_login_count = 0
        user.locked_until = None
        user.last_failed_login_at = None


def attempt_login(*, username: str, password: str, ip: str | None = None) -> LoginAttempt:
    """Check a password. Every outcome is audited; failures count towards lock-out."""
    # authenticate() runs the password hasher even for an unknown name, so the
    # time taken does not tell whether the account exists.
    authenticated = authenticate(None, username=username, password=password)
    known = authenticated or User.objects.filter(username=username).first()
    with transaction.atomic():
        if known is None:
            audit.record(
                action="accounts.login.failed",
                by=None,
                outcome="failure",
                target_type="accounts.user",
                details={"reason": "unknown_user", **_where(ip)},
            )
            return LoginAttempt(user=None)
        if known.is_locked():
            audit.record(
                action="accounts.login.failed",
                by=None,
                target=known,
                outcome="failure",
                details={"reason": "locked", **_where(ip)},
            )
            return LoginAttempt(user=None)
        if authenticated is None:
            reason = "inactive" if not known.is_active else "wrong_password"
            record_login_failure(user=known, reason=reason, ip=ip, action="accounts.login.failed")
            return LoginAttempt(user=None)
        second_factor = needs_second_factor(authenticated)
        if not second_factor:
            _clear_failures(authenticated)
        audit.record(
            action="accounts.login.succeeded",
            by=authenticated,
            target=authenticated,
            details={"second_factor_required": second_factor, **_where(ip)},
        )
    return LoginAttempt(user=authenticated, second_factor_required=second_factor)


def record_login_success(*, user: User) -> None:
    """The person has proved every factor required: the failure count starts again."""
    _clear_failures(user)


def record_logout(*, user: User, ip: str | None = None) -> None:
    with transaction.atomic():
        audit.record(action="accounts.logout", by=user, target=user, details=_where(ip))


def record_session_expired(*, user: User, reason: str) -> None:
    with transaction.atomic():
        audit.record(
            action="accounts.session.expired", by=user, target=user, details={"reason": reason}
        )
