"""Helpers shared by the accounts tests."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.test import Client
from django.urls import reverse

from hdh.accounts import totp
from hdh.accounts.models import User
from hdh.audit.models import AuditEvent
from hdh.core import clock
from tests.factories.accounts import DEFAULT_PASSWORD

# A fixed instant, in the middle of a 30-second TOTP step.
T0 = dt.datetime(2026, 3, 2, 9, 0, 10, tzinfo=dt.UTC)


def events(action: str, **filters: Any) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, **filters))


def current_code(user: User) -> str:
    user.totp_device.refresh_from_db()
    return totp.code_at(user.totp_device.secret, clock.now())


def post_login(
    client: Client, username: str, password: str = DEFAULT_PASSWORD, **extra: str
) -> Any:
    return client.post(
        reverse("accounts:login"), {"username": username, "password": password, **extra}
    )


def sign_in(client: Client, user: User, *, password: str = DEFAULT_PASSWORD) -> None:
    """Sign in through the real pages: password, then the second factor if asked."""
    response = post_login(client, user.username, password)
    assert response.status_code == 302, response.content[:500]
    if response.url.startswith(reverse("accounts:mfa_verify")):
        verified = client.post(reverse("accounts:mfa_verify"), {"code": current_code(user)})
        assert verified.status_code == 302


def without_tokens(html: str) -> str:
    """The page without the per-request CSRF token, for comparing two responses."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
