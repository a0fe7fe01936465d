"""Every demo account printed by ``hdh demo`` can sign in, second factor included."""

from __future__ import annotations

import pyotp
import pytest
from django.test import Client
from django.urls import reverse

from hdh.accounts.authorization import user_roles
from hdh.accounts.demo import create_demo_accounts
from hdh.accounts.models import User
from hdh.core.permissions import Role

pytestmark = pytest.mark.django_db


def test_one_demo_account_per_platform_role() -> None:
    accounts = create_demo_accounts()
    covered = {role for account in accounts for role in account.roles}
    assert covered == set(Role)
    assert create_demo_accounts() == accounts  # idempotent


@pytest.mark.parametrize("role", list(Role))
def test_each_demo_account_signs_in_with_its_second_factor(role: Role) -> None:
    account = next(a for a in create_demo_accounts() if role in a.roles)
    client = Client()
    response = client.post(
        reverse("accounts:login"), {"username": account.username, "password": account.password}
    )
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:mfa_verify"))
    # Before the second factor, protected pages send the person back to it.
    assert client.get(reverse("accounts:profile")).url.startswith(reverse("accounts:mfa_verify"))
    code = pyotp.TOTP(account.totp_secret).now()
    assert client.post(reverse("accounts:mfa_verify"), {"code": code}).status_code == 302
    profile = client.get(reverse("accounts:profile"))
    assert profile.status_code == 200
    assert account.username in profile.content.decode()
    user = User.objects.get(username=account.username)
    assert role in user_roles(user)
