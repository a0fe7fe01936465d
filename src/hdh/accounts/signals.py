"""Sign-in and sign-out, whichever view does it (the platform's pages or the admin's)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver
from django.http import HttpRequest

from hdh.accounts import services, session
from hdh.core import clock


@receiver(user_logged_in, dispatch_uid="hdh.accounts.stamp_session")
def stamp_session(sender: type, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    # Replaces Django's ``update_last_login`` (disconnected in apps.py) so that the
    # platform clock dates the sign-in too.
    user.last_login = clock.now()
    type(user)._default_manager.filter(pk=user.pk).update(last_login=user.last_login)
    if request is not None and hasattr(request, "session"):
        session.start(request.session)


@receiver(user_logged_out, dispatch_uid="hdh.accounts.audit_logout")
def audit_logout(sender: type, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is not None and getattr(user, "pk", None) is not None:
        ip = request.META.get("REMOTE_ADDR") if request is not None else None
        services.record_logout(user=user, ip=ip or None)
