from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client

from hdh.accounts import session
from hdh.core import clock
from hdh.core.permissions import Role
from tests.accounts.helpers import events, post_login, sign_in
from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/comptes/connexion/"
PROFILE = "/comptes/mon-compte/"


def _idle() -> dt.timedelta:
    return dt.timedelta(minutes=settings.HDH_SESSION_IDLE_MINUTES)


def test_an_idle_session_ends_with_an_audit_event_and_a_message(
    client: Client, frozen: clock.FrozenClock
) -> None:
    user = UserFactory(roles=[Role.RESEARCHER], with_totp=True)
    sign_in(client, user)
    assert client.get(PROFILE).status_code == 200

    frozen.advance(_idle())
    response = client.get(PROFILE)

    assert response.status_code == 302
    assert response.url == f"{LOGIN}?next=%2Fcomptes%2Fmon-compte%2F"
    assert SESSION_KEY not in client.session
    assert "Votre session a expiré" in client.get(response.url).content.decode()
    [event] = events("accounts.session.expired", target_id=str(user.pk))
    assert event.details == {"reason": "idle"}
    assert events("accounts.logout") == []


def test_activity_keeps_the_session_alive(client: Client, frozen: clock.FrozenClock) -> None:
    user = UserFactory()
    sign_in(client, user)

    for _ in range(6):
        frozen.advance(_idle() - dt.timedelta(minutes=2))
        assert client.get(PROFILE).status_code == 200


def test_a_session_ends_after_its_maximum_life_even_when_active(
    client: Client, frozen: clock.FrozenClock
) -> None:
    user = UserFactory()
    sign_in(client, user)
    step = _idle() / 2
    elapsed = dt.timedelta()
    limit = dt.timedelta(hours=settings.HDH_SESSION_MAX_HOURS)

    while elapsed + step < limit:
        frozen.advance(step)
        elapsed += step
        assert client.get(PROFILE).status_code == 200

    frozen.advance(limit - elapsed)
    response = client.get(PROFILE)

    assert response.status_code == 302
    assert SESSION_KEY not in client.session
    [event] = events("accounts.session.expired", target_id=str(user.pk))
    assert event.details == {"reason": "absolute"}


def test_limits_follow_the_settings(
    client: Client, frozen: clock.FrozenClock, settings: object
) -> None:
    settings.HDH_SESSION_IDLE_MINUTES = 5  # type: ignore[attr-defined]
    user = UserFactory()
    sign_in(client, user)

    frozen.advance(dt.timedelta(minutes=4))
    assert client.get(PROFILE).status_code == 200
    frozen.advance(dt.timedelta(minutes=5))
    assert client.get(PROFILE).status_code == 302


def test_an_expired_session_on_the_login_page_shows_the_form(
    client: Client, frozen: clock.FrozenClock
) -> None:
    user = UserFactory()
    sign_in(client, user)
    frozen.advance(_idle())

    response = client.get(LOGIN)

    assert response.status_code == 200
    assert "Votre session a expiré" in response.content.decode()
    assert post_login(client, user.username).status_code == 302


def test_a_signed_in_session_without_our_stamps_is_ended(client: Client) -> None:
    user = UserFactory()
    client.force_login(user)
    stored = client.session
    del stored[session.AUTHENTICATED_AT]
    stored.save()

    response = client.get(PROFILE)

    assert response.status_code == 302
    [event] = events("accounts.session.expired", target_id=str(user.pk))
    assert event.details == {"reason": "unknown"}


def test_anonymous_visitors_are_never_expired(client: Client, frozen: clock.FrozenClock) -> None:
    client.get("/")
    frozen.advance(dt.timedelta(days=2))

    assert client.get("/").status_code == 200
    assert events("accounts.session.expired") == []
