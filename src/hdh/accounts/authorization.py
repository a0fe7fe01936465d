"""The one place that answers "may this user…?".

Default deny. Anonymous and inactive users hold only the public permissions;
signed-in users hold what their platform roles declare (``core.permissions.ROLES``)
plus, on a given object, what their project roles there declare (resolvers
registered by the domains). Object rules registered by the domains can then
veto. Every denial is written to the audit log unless the caller only decides
what to display (``audit=False``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse

from hdh.audit import services as audit
from hdh.core import permissions as declared
from hdh.core.errors import NotAllowed
from hdh.core.permissions import PUBLIC_PERMISSIONS, Permission, Role

_ROLE_CACHE = "_hdh_roles_cache"

P = ParamSpec("P")
R = TypeVar("R", bound=HttpResponse)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""


def _is_signed_in(user: Any) -> bool:
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and getattr(user, "is_active", False)
    )


def user_roles(user: Any) -> frozenset[Role]:
    """The platform roles an active, signed-in user holds (empty for anyone else)."""
    if not _is_signed_in(user) or getattr(user, "pk", None) is None:
        return frozenset()
    cached: frozenset[Role] | None = getattr(user, _ROLE_CACHE, None)
    if cached is not None:
        return cached
    known = {role.value for role in Role}
    values = user.role_assignments.values_list("role", flat=True)
    roles = frozenset(Role(value) for value in values if value in known)
    # Cached on this user object only, which lives for one request; services that
    # grant or revoke a role clear it, so a change takes effect at once.
    setattr(user, _ROLE_CACHE, roles)
    return roles


def forget_roles(user: Any) -> None:
    """Drop the roles cached on this user object (after a grant or revoke)."""
    if hasattr(user, _ROLE_CACHE):
        delattr(user, _ROLE_CACHE)


def decide(user: Any, perm: Permission, obj: Any = None) -> Decision:
    """The decision with its reason, without any side effect."""
    try:
        perm = Permission(perm)
    except ValueError:
        return Decision(False, "unknown permission")
    if _is_signed_in(user):
        granted = set(declared.permissions_of(user_roles(user)))
    else:
        granted = set(PUBLIC_PERMISSIONS)
    if obj is not None and _is_signed_in(user):
        for resolver in declared.resolvers_for(obj):
            project_roles = resolver(user, obj)
            if project_roles:
                granted |= declared.project_permissions_of(project_roles)
    if perm not in granted:
        return Decision(False, "no role grants this permission")
    if obj is not None:
        for rule in declared.object_rules_for(obj):
            reason = rule(user, perm, obj)
            if reason:
                return Decision(False, reason)
    return Decision(True)


def _target_of(obj: Any) -> dict[str, Any]:
    if obj is None:
        return {}
    if isinstance(obj, models.Model):
        return {"target": obj}
    identifier = getattr(obj, "pk", None) or getattr(obj, "id", None) or ""
    return {"target_type": type(obj).__name__, "target_id": str(identifier)}


def has_permission(user: Any, perm: Permission, obj: Any = None, *, audit: bool = True) -> bool:
    """May ``user`` do ``perm`` (on ``obj``)? Denials are audited unless ``audit=False``.

    ``audit=False`` is only for deciding what to display (menus, buttons); any
    check that guards an action or a read keeps the default.
    """
    decision = decide(user, perm, obj)
    if not decision.allowed and audit:
        audit_record_denial(user, perm, obj, decision.reason)
    return decision.allowed


def audit_record_denial(user: Any, perm: Permission | str, obj: Any, reason: str) -> None:
    audit.record(
        action="permission.denied",
        by=user if getattr(user, "pk", None) is not None else None,
        outcome="denied",
        details={"permission": str(perm), "reason": reason},
        **_target_of(obj),
    )


def require_permission(user: Any, perm: Permission, obj: Any = None) -> None:
    """Raise :class:`NotAllowed` unless ``user`` may do ``perm`` (the denial is audited)."""
    if not has_permission(user, perm, obj):
        raise NotAllowed(f"permission {perm} refused")


def permission_required(
    perm: Permission,
    *,
    get_object: Callable[..., Any] | None = None,
) -> Callable[[Callable[P, R]], Callable[P, HttpResponse]]:
    """View decorator: anonymous users go to the login page, others without ``perm`` get 403.

    ``get_object(request, *args, **kwargs)`` may return the object the permission
    is checked on.
    """

    def decorator(view: Callable[P, R]) -> Callable[P, HttpResponse]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> HttpResponse:
            request = args[0]
            assert isinstance(request, HttpRequest)
            obj = get_object(*args, **kwargs) if get_object is not None else None
            if has_permission(request.user, perm, obj):
                return view(*args, **kwargs)
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            raise PermissionDenied

        return wrapper

    return decorator
