"""Organisations, accounts and platform roles."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import import_module

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from hdh.accounts.authorization import forget_roles, require_permission, user_roles
from hdh.accounts.models import Organisation, RoleAssignment, User
from hdh.audit import services as audit
from hdh.core import clock
from hdh.core.errors import InvalidState, ValidationFailed
from hdh.core.governance import service_writes
from hdh.core.permissions import ROLES, Permission, Role
from hdh.core.redaction import looks_like_nir

# Sessions kept in the database can be found and ended; other engines rely on
# the ``is_active`` check Django makes on every request.
_SESSION_ENGINES_IN_DB = (
    "django.contrib.sessions.backends.db",
    "django.contrib.sessions.backends.cached_db",
)


def require_manager(by: User | None) -> None:
    # ``by=None`` is the operator at the command line, who already holds the machine.
    if by is not None:
        require_permission(by, Permission.ACCOUNTS_MANAGE)


def _problems(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [
            f"{field}: {message}"
            for field, messages in error.message_dict.items()
            for message in messages
        ]
    return list(error.messages)


def create_organisation(
    *, by: User | None, name: str, kind: str, acronym: str = "", siren: str = ""
) -> Organisation:
    require_manager(by)
    organisation = Organisation(
        name=name.strip(),
        kind=kind,
        acronym=acronym.strip(),
        siren=siren.strip(),
        created_at=clock.now(),
    )
    try:
        organisation.full_clean()
    except ValidationError as exc:
        raise ValidationFailed(_("Organisation invalide."), _problems(exc)) from exc
    with transaction.atomic():
        organisation.save()
        audit.record(
            action="accounts.organisation.created",
            by=by,
            target=organisation,
            details={"kind": kind},
        )
    return organisation


def save_organisation(
    *, by: User | None, organisation: Organisation, changed: Iterable[str] = ()
) -> Organisation:
    """Save an organisation edited in a form (the admin), with its audit event."""
    require_manager(by)
    adding = organisation._state.adding
    with transaction.atomic():
        organisation.save()
        audit.record(
            action="accounts.organisation.created" if adding else "accounts.organisation.updated",
            by=by,
            target=organisation,
            details={"fields": sorted(changed)},
        )
    return organisation


def create_user(
    *,
    by: User | None,
    username: str,
    email: str,
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
    organisation: Organisation | None = None,
    roles: Iterable[Role] = (),
    is_demo: bool = False,
) -> User:
    """Create an account; without a password it cannot sign in until one is set."""
    require_manager(by)
    roles = [Role(role) for role in roles]
    user = User(
        username=username.strip(),
        email=email.strip().lower(),
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        organisation=organisation,
        is_demo=is_demo,
        date_joined=clock.now(),
    )
    if looks_like_nir(user.username):
        # A username is written as the actor of every audit event of the account.
        raise ValidationFailed(
            _("Compte invalide."),
            [f"username: {_('Un identifiant ne peut pas ressembler à un NIR.')}"],
        )
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as exc:
        raise ValidationFailed(_("Compte invalide."), _problems(exc)) from exc
    if password is None:
        user.set_unusable_password()
    else:
        try:
            validate_password(password, user=user)
        except ValidationError as exc:
            raise ValidationFailed(_("Mot de passe trop faible."), _problems(exc)) from exc
        user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
            audit.record(
                action="accounts.user.created",
                by=by,
                target=user,
                details={
                    "organisation_id": organisation.pk if organisation else None,
                    "roles": sorted(roles),
                    "is_demo": is_demo,
                },
            )
            for role in roles:
                _grant(by=by, user=user, role=role)
    except IntegrityError as exc:
        raise ValidationFailed(
            _("Compte invalide."), [_("Identifiant ou adresse électronique déjà utilisé.")]
        ) from exc
    return user


def save_account_changes(*, by: User | None, user: User, changed: Iterable[str]) -> None:
    """Save identity fields edited in a form (the admin); the audit names the fields only."""
    require_manager(by)
    fields = sorted(set(changed))
    if not fields:
        return
    with transaction.atomic():
        user.save()
        audit.record(action="accounts.user.updated", by=by, target=user, details={"fields": fields})


def _sync_admin_flags(user: User) -> None:
    # The administrator role is what opens the Django admin: the flags follow it.
    is_admin = Role.ADMINISTRATOR in user_roles(user)
    if user.is_staff != is_admin or user.is_superuser != is_admin:
        user.is_staff = is_admin
        user.is_superuser = is_admin
        user.save(update_fields=["is_staff", "is_superuser"])


def _grant(*, by: User | None, user: User, role: Role) -> RoleAssignment:
    if RoleAssignment.objects.filter(user=user, role=role).exists():
        message = _("Le compte a déjà le rôle « %(role)s ».") % {"role": ROLES[role].label}
        raise InvalidState(message)
    with service_writes():
        assignment = RoleAssignment.objects.create(
            user=user, role=role, granted_by=by, granted_at=clock.now()
        )
    forget_roles(user)
    _sync_admin_flags(user)
    audit.record(action="accounts.role.granted", by=by, target=user, details={"role": str(role)})
    return assignment


def grant_role(*, by: User | None, user: User, role: Role) -> RoleAssignment:
    require_manager(by)
    with transaction.atomic():
        return _grant(by=by, user=user, role=Role(role))


def revoke_role(*, by: User | None, user: User, role: Role) -> None:
    require_manager(by)
    role = Role(role)
    with transaction.atomic():
        assignment = RoleAssignment.objects.select_for_update().filter(user=user, role=role)
        if not assignment.exists():
            raise InvalidState(
                _("Le compte n'a pas le rôle « %(role)s ».") % {"role": ROLES[role].label}
            )
        if role is Role.ADMINISTRATOR and not _other_active_admins(user):
            raise InvalidState(_("La plateforme doit garder au moins un administrateur actif."))
        with service_writes():
            assignment.delete()
        forget_roles(user)
        _sync_admin_flags(user)
        audit.record(
            action="accounts.role.revoked", by=by, target=user, details={"role": str(role)}
        )


def _other_active_admins(user: User) -> bool:
    return (
        RoleAssignment.objects.filter(role=Role.ADMINISTRATOR, user__is_active=True)
        .exclude(user=user)
        .exists()
    )


def deactivate_user(*, by: User | None, user: User) -> int:
    """Close an account and end all its sessions at once (ASVS 7.4.2).

    Returns how many sessions were ended.
    """
    require_manager(by)
    if by is not None and by.pk == user.pk:
        raise InvalidState(_("Vous ne pouvez pas désactiver votre propre compte."))
    if not user.is_active:
        raise InvalidState(_("Le compte est déjà désactivé."))
    if Role.ADMINISTRATOR in user_roles(user) and not _other_active_admins(user):
        raise InvalidState(_("La plateforme doit garder au moins un administrateur actif."))
    with transaction.atomic():
        user.is_active = False
        user.save(update_fields=["is_active"])
        forget_roles(user)
        ended = end_sessions_of(user)
        audit.record(
            action="accounts.user.deactivated",
            by=by,
            target=user,
            details={"sessions_ended": ended},
        )
    return ended


def end_sessions_of(user: User) -> int:
    if settings.SESSION_ENGINE not in _SESSION_ENGINES_IN_DB:
        return 0
    from django.contrib.sessions.models import Session

    store = import_module(settings.SESSION_ENGINE).SessionStore
    ended = 0
    for session in Session.objects.iterator():
        if str(session.get_decoded().get(SESSION_KEY)) == str(user.pk):
            store(session_key=session.session_key).delete()
            ended += 1
    return ended


def unlock_user(*, by: User | None, user: User) -> None:
    """Lift a lock-out before it expires (an administrator vouches for the person)."""
    require_manager(by)
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(
            failed_login_count=0, locked_until=None, last_failed_login_at=None
        )
        user.refresh_from_db(fields=["failed_login_count", "locked_until", "last_failed_login_at"])
        audit.record(action="accounts.user.unlocked", by=by, target=user, details={})
