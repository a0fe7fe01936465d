from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client

from hdh.accounts import services, session, totp
from hdh.accounts.models import TOTPDevice
from hdh.audit.models import AuditEvent
from hdh.core import clock
from hdh.core.permissions import Role
from tests.accounts.helpers import current_code, events, post_login, sign_in
from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/comptes/connexion/"
VERIFY = "/comptes/double-authentification/"
ENROL = "/comptes/double-authentification/activation/"
PROFILE = "/comptes/mon-compte/"


def _secret_on_page(html: str) -> str:
    [grouped] = re.findall(r'<code id="totp-secret"[^>]*>([A-Z2-7 ]+)</code>', html)
    return grouped.replace(" ", "")


def test_a_new_researcher_must_enrol_before_anything_else(
    client: Client, frozen: clock.FrozenClock
) -> None:
    user = UserFactory(roles=[Role.RESEARCHER])

    response = post_login(client, user.username)
    assert response.status_code == 302
    assert response.url == ENROL

    # Every other page sends them back to enrolment.
    blocked = client.get(PROFILE)
    assert blocked.status_code == 302
    assert blocked.url == f"{ENROL}?next=%2Fcomptes%2Fmon-compte%2F"

    page = client.get(ENROL)
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html
    assert "hdh-totp-qr" in html
    assert 'autocomplete="one-time-code"' in html
    assert 'inputmode="numeric"' in html
    assert '<label class="fr-label" for="id_code">' in html
    secret = _secret_on_page(html)
    assert secret == TOTPDevice.objects.get(user=user).secret

    # Reloading the page keeps the same secret (the person may have scanned it).
    assert _secret_on_page(client.get(ENROL).content.decode()) == secret

    confirmed = client.post(ENROL, {"code": totp.code_at(secret, clock.now())})
    assert confirmed.status_code == 302
    assert client.get(PROFILE).status_code == 200
    [event] = events("accounts.mfa.enrolled", target_id=str(user.pk))
    assert event.details == {"method": "totp"}
    assert secret not in str(event.details)


def test_enrolment_with_a_wrong_code_is_refused_and_counted(
    client: Client, frozen: clock.FrozenClock
) -> None:
    user = UserFactory(roles=[Role.RESEARCHER])
    post_login(client, user.username)
    secret = _secret_on_page(client.get(ENROL).content.decode())
    wrong = f"{(int(totp.code_at(secret, clock.now())) + 1) % 1_000_000:06d}"

    response = client.post(ENROL, {"code": wrong})

    assert response.status_code == 200
    assert "Code incorrect" in response.content.decode()
    assert not TOTPDevice.objects.get(user=user).is_confirmed
    user.refresh_from_db()
    assert user.failed_login_count == 1
    assert events("accounts.mfa.failed", target_id=str(user.pk))


def test_enrolled_user_is_asked_for_a_code_and_the_admin_is_covered(
    client: Client, frozen: clock.FrozenClock
) -> None:
    user = UserFactory(roles=[Role.ADMINISTRATOR], with_totp=True)

    response = post_login(client, user.username)
    assert response.url == VERIFY
    [succeeded] = events("accounts.login.succeeded", target_id=str(user.pk))
    assert succeeded.details["second_factor_required"] is True

    for path in (PROFILE, "/admin/", "/admin/accounts/user/", "/"):
        blocked = client.get(path)
        assert blocked.status_code == 302, path
        assert blocked.url.startswith(VERIFY), path
    assert client.post("/admin/accounts/user/", {}).url == VERIFY

    verified = client.post(VERIFY, {"code": current_code(user)})
    assert verified.status_code == 302
    assert client.get(PROFILE).status_code == 200
    assert client.get("/admin/").status_code == 200
    assert events("accounts.mfa.verified", target_id=str(user.pk))


def test_open_paths_stay_reachable_before_the_second_factor(client: Client) -> None:
    user = UserFactory(roles=[Role.RESEARCHER], with_totp=True)
    post_login(client, user.username)

    assert client.get("/healthz").status_code == 200
    assert client.get(VERIFY).status_code == 200
    assert client.get(LOGIN).status_code == 200
    assert client.post("/comptes/deconnexion/").status_code == 302


def test_the_second_factor_gives_a_new_session_key(
    client: Client, frozen: clock.FrozenClock
) -> None:
    user = UserFactory(roles=[Role.RESEARCHER], with_totp=True)
    post_login(client, user.username)
    before = client.session.session_key

    client.post(VERIFY, {"code": current_code(user)})

    assert client.session.session_key != before
    assert session.second_factor_passed(client.session)


def test_a_code_cannot_be_used_twice(frozen: clock.FrozenClock) -> None:
    user = UserFactory(roles=[Role.RESEARCHER], with_totp=True)
    first, second = Client(), Client()
    post_login(first, user.username)
    post_login(second, user.username)
    code = current_code(user)

    assert first.post(VERIFY, {"code": code}).status_code == 302
    replay = second.post(VERIFY, {"code": code})

    assert replay.status_code == 200
    assert "Code incorrect ou déjà utilisé" in replay.content.decode()
    assert second.get(PROFILE).status_code == 302
    [failed] = events("accounts.mfa.failed", target_id=str(user.pk))
    assert failed.details == {"reason": "wrong_or_reused_code", "ip": "127.0.0.1"}

    # The next step's code works.
    frozen.advance(dt.timedelta(seconds=totp.STEP_SECONDS))
    assert second.post(VERIFY, {"code": current_code(user)}).status_code == 302


def test_codes_from_the_neighbouring_steps_are_accepted(frozen: clock.FrozenClock) -> None:
    user = UserFactory(roles=[Role.RESEARCHER], with_totp=True)
    secret = user.totp_device.secret
    step = dt.timedelta(seconds=totp.STEP_SECONDS)

    assert services.verify_totp(user=user, code=totp.code_at(secret, clock.now() - step))
    assert services.verify_totp(user=user, code=totp.code_at(secret, clock.now() + step))
    assert not services.verify_totp(user=user, code=totp.code_at(secret, clock.now() + 2 * step))
    # An older step than the last accepted one is a replay.
    assert not services.verify_totp(user=user, code=totp.code_at(secret, clock.now()))


def test_wrong_codes_lock_the_account_and_end_the_session(
    client: Client, frozen: clock.FrozenClock
) -> None:
    user = UserFactory(roles=[Role.RESEARCHER], with_totp=True)
    post_login(client, user.username)
    wrong = f"{(int(current_code(user)) + 5) % 1_000_000:06d}"

    for _ in range(settings.HDH_LOCKOUT_THRESHOLD - 1):
        assert client.post(VERIFY, {"code": wrong}).status_code == 200
    response = client.post(VERIFY, {"code": wrong})

    assert response.status_code == 302
    assert response.url == LOGIN
    assert SESSION_KEY not in client.session
    assert "verrouillé" in client.get(LOGIN).content.decode()
    user.refresh_from_db()
    assert user.is_locked()
    assert len(events("accounts.mfa.failed", target_id=str(user.pk))) == (
        settings.HDH_LOCKOUT_THRESHOLD
    )
    assert len(events("accounts.login.locked", target_id=str(user.pk))) == 1
    # Even the right password and code do not get through while locked.
    post_login(client, user.username)
    assert SESSION_KEY not in client.session


def test_password_success_does_not_reset_second_factor_failures(
    client: Client, frozen: clock.FrozenClock
) -> None:
    user = UserFactory(roles=[Role.RESEARCHER], with_totp=True)
    wrong = f"{(int(current_code(user)) + 5) % 1_000_000:06d}"

    for _ in range(settings.HDH_LOCKOUT_THRESHOLD):
        post_login(client, user.username)
        client.post(VERIFY, {"code": wrong})

    user.refresh_from_db()
    assert user.is_locked()


@pytest.mark.parametrize(
    "code",
    ["", "abcdef", "12345", "1234567", "12 34 5x", "\uff11\uff12\uff13\uff14\uff15\uff16", "\x00"],
)
def test_malformed_codes_get_a_clear_error(client: Client, code: str) -> None:
    user = UserFactory(roles=[Role.RESEARCHER], with_totp=True)
    post_login(client, user.username)

    response = client.post(VERIFY, {"code": code})

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_code_error"' in html
    assert 'aria-describedby="id_code_helptext id_code_error"' in html


def test_a_code_with_a_space_is_accepted(client: Client, frozen: clock.FrozenClock) -> None:
    user = UserFactory(roles=[Role.RESEARCHER], with_totp=True)
    post_login(client, user.username)
    code = current_code(user)

    assert client.post(VERIFY, {"code": f"{code[:3]} {code[3:]}"}).status_code == 302


@pytest.mark.parametrize("path", [VERIFY, ENROL])
def test_second_factor_pages_need_a_password_first(client: Client, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 302
    assert response.url.startswith(LOGIN)


@pytest.mark.parametrize("method", ["put", "delete"])
def test_second_factor_pages_refuse_other_methods(client: Client, method: str) -> None:
    user = UserFactory(roles=[Role.RESEARCHER], with_totp=True)
    post_login(client, user.username)

    assert getattr(client, method)(VERIFY).status_code == 405


def test_enrolled_users_cannot_enrol_again(client: Client, frozen: clock.FrozenClock) -> None:
    user = UserFactory(roles=[Role.RESEARCHER], with_totp=True)
    sign_in(client, user)

    response = client.get(ENROL)

    assert response.status_code == 302
    assert response.url == PROFILE


def test_users_without_roles_sign_in_with_a_password_only(client: Client) -> None:
    user = UserFactory()

    response = post_login(client, user.username)

    assert response.url == "/"
    assert client.get(PROFILE).status_code == 200


def test_reset_removes_the_authenticator_and_ends_sessions(
    client: Client, frozen: clock.FrozenClock
) -> None:
    admin = UserFactory(roles=[Role.ADMINISTRATOR])
    user = UserFactory(roles=[Role.RESEARCHER], with_totp=True)
    sign_in(client, user)

    services.reset_totp(by=admin, user=user)

    assert not TOTPDevice.objects.filter(user=user).exists()
    assert client.get(PROFILE).url.startswith(LOGIN)
    post_login(client, user.username)
    assert client.get(PROFILE).url.startswith(ENROL)
    assert events("accounts.mfa.reset", target_id=str(user.pk))


def test_no_secret_or_code_ever_reaches_the_audit_log(
    client: Client, frozen: clock.FrozenClock
) -> None:
    user = UserFactory(roles=[Role.RESEARCHER], with_totp=True)
    code = current_code(user)
    post_login(client, user.username, "mauvais-mot-de-passe")
    sign_in(client, user)

    for event in AuditEvent.objects.all():
        text = str(event.details)
        assert user.totp_device.secret not in text
        assert code not in text
        assert "mauvais-mot-de-passe" not in text
        assert "Un-mot-de-passe-solide-42" not in text
