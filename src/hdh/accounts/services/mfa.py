"""The second factor: an authenticator app (TOTP), enrolled once, checked at each sign-in."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from hdh.accounts import totp
from hdh.accounts.models import TOTPDevice, User
from hdh.accounts.services.login import record_login_failure, record_login_success
from hdh.accounts.services.users import end_sessions_of, require_manager
from hdh.audit import services as audit
from hdh.core import clock
from hdh.core.errors import InvalidState
from hdh.core.governance import service_writes


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user_id=user.pk, confirmed_at__isnull=False).first()


def begin_totp_enrolment(*, user: User) -> TOTPDevice:
    """The pending device whose secret the person scans; the same one until confirmed."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user_id=user.pk).first()
        if device is not None and device.is_confirmed:
            raise InvalidState(_("Le compte a déjà une application d'authentification confirmée."))
        if device is None:
            with service_writes():
                device = TOTPDevice.objects.create(
                    user=user, secret=totp.new_secret(), created_at=clock.now()
                )
    return device


def confirm_totp_enrolment(*, user: User, code: str) -> bool:
    """Confirm the pending device with a first code from the app.

    A wrong code counts towards lock-out, like a wrong password.
    """
    now = clock.now()
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user_id=user.pk).first()
        if device is None or device.is_confirmed:
            raise InvalidState(_("Aucune application d'authentification n'attend de confirmation."))
        normalised = totp.normalise_code(code)
        step = (
            totp.matching_step(device.secret, normalised, now, after=device.last_used_step)
            if normalised
            else None
        )
        if step is None:
            record_login_failure(
                user=user, reason="wrong_code_at_enrolment", ip=None, action="accounts.mfa.failed"
            )
            return False
        device.confirmed_at = now
        device.last_used_step = step
        with service_writes():
            device.save(update_fields=["confirmed_at", "last_used_step"])
        record_login_success(user=user)
        audit.record(
            action="accounts.mfa.enrolled", by=user, target=user, details={"method": "totp"}
        )
    return True


def enrol_confirmed_totp(*, by: User | None, user: User, secret: str) -> TOTPDevice:
    """Give an account an already confirmed device with a known secret.

    For demonstration accounts and browser tests, whose codes must be computable;
    raises :class:`hdh.accounts.totp.MalformedSecret` for a bad secret.
    """
    require_manager(by)
    secret = totp.normalise_secret(secret)
    with transaction.atomic():
        if TOTPDevice.objects.filter(user_id=user.pk).exists():
            raise InvalidState(_("Le compte a déjà une application d'authentification."))
        with service_writes():
            device = TOTPDevice.objects.create(
                user=user, secret=secret, created_at=clock.now(), confirmed_at=clock.now()
            )
        audit.record(
            action="accounts.mfa.enrolled",
            by=by,
            target=user,
            details={"method": "totp", "preconfigured": True},
        )
    return device


def verify_totp(*, user: User, code: str, ip: str | None = None) -> bool:
    """Check a code against the confirmed device; refuse a code already used.

    A wrong or replayed code is audited and counts towards lock-out. A locked
    account is refused without looking at the code.
    """
    now = clock.now()
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user_id=user.pk, confirmed_at__isnull=False)
            .first()
        )
        if device is None:
            raise InvalidState(_("Le compte n'a pas d'application d'authentification confirmée."))
        user.refresh_from_db(fields=["locked_until"])
        if user.is_locked():
            audit.record(
                action="accounts.mfa.failed",
                by=None,
                target=user,
                outcome="failure",
                details={"reason": "locked"},
            )
            return False
        normalised = totp.normalise_code(code)
        step = (
            totp.matching_step(device.secret, normalised, now, after=device.last_used_step)
            if normalised
            else None
        )
        if step is None:
            reason = "malformed_code" if normalised is None else "wrong_or_reused_code"
            record_login_failure(user=user, reason=reason, ip=ip, action="accounts.mfa.failed")
            return False
        device.last_used_step = step
        with service_writes():
            device.save(update_fields=["last_used_step"])
        record_login_success(user=user)
        audit.record(
            action="accounts.mfa.verified",
            by=user,
            target=user,
            details={"method": "totp", **({"ip": ip} if ip else {})},
        )
    return True


def reset_totp(*, by: User | None, user: User) -> None:
    """Remove the account's authenticator and end its sessions.

    The person enrols a new authenticator at their next sign-in (e.g. after a lost phone).
    """
    require_manager(by)
    with transaction.atomic():
        devices = TOTPDevice.objects.filter(user_id=user.pk)
        if not devices.exists():
            raise InvalidState(_("Le compte n'a pas d'application d'authentification."))
        with service_writes():
            devices.delete()
        ended = end_sessions_of(user)
        audit.record(
            action="accounts.mfa.reset", by=by, target=user, details={"sessions_ended": ended}
        )
