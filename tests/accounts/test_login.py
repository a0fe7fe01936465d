from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

from hdh.core import clock
from hdh.core.permissions import Role
from tests.accounts.helpers import events, post_login, sign_in, without_tokens
from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/comptes/connexion/"
PROFILE = "/comptes/mon-compte/"


def test_login_page_is_accessible_dsfr_markup(client: Client) -> None:
    response = client.get(LOGIN)

    html = response.content.decode()
    assert response.status_code == 200
    assert reverse("accounts:login") == LOGIN
    assert '<label class="fr-label" for="id_username">' in html
    assert '<label class="fr-label" for="id_password">' in html
    assert 'autocomplete="username"' in html
    assert 'autocomplete="current-password"' in html
    assert 'class="fr-input"' in html
    assert "<h1>Connexion</h1>" in html


def test_login_errors_are_linked_to_their_field(client: Client) -> None:
    html = client.post(LOGIN, {"username": "", "password": ""}).content.decode()

    assert 'aria-describedby="id_username_error"' in html
    assert 'id="id_username_error"' in html
    assert 'aria-invalid="true"' in html
    assert "fr-input-group--error" in html


def test_successful_login_without_second_factor_is_audited(client: Client) -> None:
    user = UserFactory()

    response = post_login(client, user.username)

    assert response.status_code == 302
    assert response.url == "/"
    assert client.session[SESSION_KEY] == str(user.pk)
    [event] = events("accounts.login.succeeded", target_id=str(user.pk))
    assert event.actor_id == str(user.pk)
    assert event.details == {"second_factor_required": False, "ip": "127.0.0.1"}


def test_login_gives_a_new_session_key(client: Client) -> None:
    user = UserFactory()
    client.get(LOGIN)
    client.session.save()
    before = client.session.session_key

    post_login(client, user.username)

    assert client.session.session_key != before


def test_wrong_password_is_audited_and_counted(client: Client) -> None:
    user = UserFactory()

    response = post_login(client, user.username, "mauvais-mot-de-passe")

    assert response.status_code == 200
    assert "Identifiant ou mot de passe incorrect." in response.content.decode()
    assert SESSION_KEY not in client.session
    [event] = events("accounts.login.failed", target_id=str(user.pk))
    assert event.outcome == "failure"
    assert event.details == {"reason": "wrong_password", "ip": "127.0.0.1"}
    user.refresh_from_db()
    assert user.failed_login_count == 1


def test_the_answer_never_tells_whether_an_account_exists(client: Client) -> None:
    UserFactory(username="existe")
    locked = UserFactory(username="bloque", locked_until=clock.now() + dt.timedelta(hours=1))
    UserFactory(username="inactif", is_active=False)

    pages = [
        post_login(client, "existe", "mauvais-mot-de-passe"),
        post_login(client, "inconnu", "mauvais-mot-de-passe"),
        # Even the right password of a locked or inactive account gets the same answer.
        post_login(client, locked.username),
        post_login(client, "inactif"),
    ]

    statuses = {page.status_code for page in pages}
    bodies = {
        without_tokens(page.content.decode()).replace(name, "NAME")
        for page, name in zip(pages, ["existe", "inconnu", "bloque", "inactif"], strict=True)
    }
    assert statuses == {200}
    assert len(bodies) == 1
    [unknown] = events("accounts.login.failed", target_id="")
    assert unknown.details["reason"] == "unknown_user"


def test_lock_out_after_the_threshold_then_release(
    client: Client, frozen: clock.FrozenClock
) -> None:
    user = UserFactory()
    threshold = settings.HDH_LOCKOUT_THRESHOLD

    for _ in range(threshold):
        post_login(client, user.username, "mauvais-mot-de-passe")
        frozen.advance(dt.timedelta(seconds=20))

    user.refresh_from_db()
    assert user.locked_until == clock.now() - dt.timedelta(seconds=20) + dt.timedelta(
        minutes=settings.HDH_LOCKOUT_MINUTES
    )
    assert len(events("accounts.login.locked", target_id=str(user.pk))) == 1

    # Locked: the right password is refused, and the refusal does not prolong the lock.
    response = post_login(client, user.username)
    assert response.status_code == 200
    assert SESSION_KEY not in client.session
    assert events("accounts.login.failed", target_id=str(user.pk))[-1].details["reason"] == (
        "locked"
    )

    frozen.advance(dt.timedelta(minutes=settings.HDH_LOCKOUT_MINUTES))
    response = post_login(client, user.username)
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.failed_login_count == 0
    assert user.locked_until is None


def test_failures_spread_wider_than_the_window_do_not_lock(
    client: Client, frozen: clock.FrozenClock
) -> None:
    user = UserFactory()

    for _ in range(settings.HDH_LOCKOUT_THRESHOLD + 2):
        post_login(client, user.username, "mauvais-mot-de-passe")
        frozen.advance(dt.timedelta(minutes=settings.HDH_LOCKOUT_WINDOW_MINUTES, seconds=1))

    user.refresh_from_db()
    assert user.locked_until is None
    assert user.failed_login_count == 1


def test_success_resets_the_failure_count(client: Client) -> None:
    user = UserFactory()
    post_login(client, user.username, "mauvais-mot-de-passe")

    post_login(client, user.username)

    user.refresh_from_db()
    assert user.failed_login_count == 0


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/comptes/mon-compte/", "/comptes/mon-compte/"),
        ("/catalogue/?q=diab%C3%A8te", "/catalogue/?q=diab%C3%A8te"),
        ("https://evil.example/phish", "/"),
        ("//evil.example/phish", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("http://testserver.evil.example/", "/"),
        ("https:///evil.example", "/"),
    ],
)
def test_next_is_followed_only_within_the_site(
    client: Client, next_url: str, expected: str
) -> None:
    user = UserFactory()

    response = client.post(
        f"{LOGIN}?next=x",
        {"username": user.username, "password": "Un-mot-de-passe-solide-42", "next": next_url},
    )

    assert response.status_code == 302
    assert response.url == expected


def test_unsafe_next_is_not_echoed_into_the_form(client: Client) -> None:
    html = client.get(LOGIN, {"next": "https://evil.example/"}).content.decode()

    [login_form] = re.findall(rf'<form method="post" action="{LOGIN}".*?</form>', html, re.S)
    assert 'name="next"' not in login_form


def test_a_safe_next_survives_the_second_factor(client: Client) -> None:
    user = UserFactory(roles=[Role.RESEARCHER], with_totp=True)

    response = post_login(client, user.username, next="/comptes/mon-compte/")

    assert response.status_code == 302
    assert response.url == "/comptes/double-authentification/?next=%2Fcomptes%2Fmon-compte%2F"


HOSTILE_USERNAMES = [
    "a" * 10_000,
    "nul\x00byte",
    "' OR '1'='1' --",
    "admin'; DROP TABLE accounts_user; --",
    "ñandú-Ωμέγα-名前-🙂",
    "<script>alert(1)</script>",
    "\u202eevil",
    " ",
]


@pytest.mark.parametrize("username", HOSTILE_USERNAMES)
def test_hostile_usernames_get_a_clear_answer(client: Client, username: str) -> None:
    response = post_login(client, username, "n'importe quoi")

    assert response.status_code == 200
    html = response.content.decode()
    assert "fr-alert--error" in html or "fr-error-text" in html
    assert "<script>alert(1)</script>" not in html
    assert SESSION_KEY not in client.session


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"username": "alice"},
        {"password": "secret"},
        {"username": ["a", "b"], "password": "x"},
        {"username": "alice", "password": "p" * 5000},
        {"username": "alice", "password": "nul\x00byte"},
    ],
)
def test_malformed_forms_get_a_clear_answer(client: Client, data: dict[str, object]) -> None:
    UserFactory(username="alice")

    response = client.post(LOGIN, data)

    assert response.status_code == 200
    assert "fr-error-text" in response.content.decode() or "fr-alert--error" in (
        response.content.decode()
    )
    assert SESSION_KEY not in client.session


def test_sql_like_username_does_not_match_anyone(client: Client) -> None:
    UserFactory(username="alice")

    response = post_login(client, "' OR 1=1 --", "Un-mot-de-passe-solide-42")

    assert response.status_code == 200
    assert SESSION_KEY not in client.session


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_login_refuses_other_methods(client: Client, method: str) -> None:
    assert getattr(client, method)(LOGIN).status_code == 405


def test_logout_is_post_only_and_audited(client: Client) -> None:
    user = UserFactory()
    post_login(client, user.username)

    assert client.get("/comptes/deconnexion/").status_code == 405
    assert SESSION_KEY in client.session

    response = client.post("/comptes/deconnexion/")

    assert response.status_code == 302
    assert SESSION_KEY not in client.session
    [event] = events("accounts.logout", target_id=str(user.pk))
    assert event.actor_id == str(user.pk)


def test_logout_needs_the_csrf_token() -> None:
    browser = Client(enforce_csrf_checks=True)
    user = UserFactory()
    browser.force_login(user)

    assert browser.post("/comptes/deconnexion/").status_code == 403


def test_profile_shows_name_organisation_roles_and_second_factor(client: Client) -> None:
    user = UserFactory(
        first_name="Claire", last_name="Dupont", roles=[Role.AUDITOR], with_totp=True
    )
    sign_in(client, user)

    html = client.get(PROFILE).content.decode()

    assert "Claire Dupont" in html
    assert user.organisation.name in html
    assert "Auditeur ou délégué à la protection des données" in html
    assert "Double authentification" in html


def test_profile_needs_a_signed_in_user(client: Client) -> None:
    response = client.get(PROFILE)

    assert response.status_code == 302
    assert response.url == f"{LOGIN}?next={PROFILE}"


def test_last_login_is_dated_by_the_platform_clock(
    client: Client, frozen: clock.FrozenClock
) -> None:
    user = UserFactory()

    post_login(client, user.username)

    user.refresh_from_db()
    assert user.last_login == clock.now()
