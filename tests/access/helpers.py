"""Helpers shared by the guichet's tests."""

from __future__ import annotations

from django.test import Client

from hdh.accounts import services, totp
from hdh.accounts.models import TOTPDevice, User
from tests.accounts.helpers import sign_in


def client_for(user: User) -> Client:
    """A client signed in as ``user`` through the real pages (second factor included)."""
    if not TOTPDevice.objects.filter(user_id=user.pk).exists():
        services.enrol_confirmed_totp(by=None, user=user, secret=totp.new_secret())
    client = Client()
    sign_in(client, user)
    return client
