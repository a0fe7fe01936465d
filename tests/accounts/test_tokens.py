"""Personal API tokens: created once, stored as a digest, accepted by the API as
``Authorization: Bearer``, refused (and audited) when revoked, expired or forged."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from hdh.accounts import tokens
from hdh.accounts.models import ApiToken, User
from hdh.audit.models import AuditEvent
from hdh.catalog.models import Base
from hdh.core import clock
from hdh.core.errors import NotAllowed, ValidationFailed
from hdh.core.governance import DirectWriteRefused
from hdh.core.permissions import Role
from tests.accounts.helpers import sign_in
from tests.factories.accounts import OrganisationFactory, UserFactory
from tests.factories.catalog import base_values

pytestmark = pytest.mark.django_db


def _producer(**extra: Any) -> User:
    return UserFactory(
        roles=[Role.DATA_PRODUCER], organisation=OrganisationFactory(), with_totp=True, **extra
    )


def _create_base(token: str, **headers: Any) -> Any:
    return Client().post(
        "/api/catalog/bases",
        json.dumps(base_values()),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        **headers,
    )


def _denials(reason: str) -> int:
    return sum(
        1
        for event in AuditEvent.objects.filter(action="accounts.token.denied")
        if event.details.get("reason") == reason
    )


def test_a_token_is_shown_once_and_stored_as_its_digest() -> None:
    owner = _producer()
    token, raw = tokens.create_token(by=owner, owner=owner, label="script")
    assert raw.startswith("hdh_")
    assert len(raw) == 47
    assert token.digest == tokens.digest(raw)
    assert raw not in token.digest
    assert token.prefix == raw[:12]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apitoken")
        assert not any(raw in str(value) for row in cursor.fetchall() for value in row)
    event = AuditEvent.objects.get(action="accounts.token.created")
    assert raw not in json.dumps(event.details)
    assert event.actor_id == str(owner.pk)
    assert raw not in repr(token)
    assert raw not in str(token)


def test_a_producer_writes_through_the_api_with_a_token_and_no_session() -> None:
    owner = _producer()
    _token, raw = tokens.create_token(by=owner, owner=owner, label="script")
    # Django's test client skips CSRF checks unless told: enforce them, as a browser would.
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/api/catalog/bases",
        json.dumps(base_values(slug="par-jeton")),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert response.status_code == 201, response.content
    assert Base.objects.get(slug="par-jeton").created_by == owner
    assert ApiToken.objects.get(owner=owner).last_used_at is not None


def test_without_a_token_a_session_still_needs_csrf() -> None:
    owner = _producer()
    client = Client()
    sign_in(client, owner)
    client.handler.enforce_csrf_checks = True
    response = client.post(
        "/api/catalog/bases", json.dumps(base_values()), content_type="application/json"
    )
    assert response.status_code == 403


def test_a_token_carries_only_its_owners_permissions() -> None:
    researcher = UserFactory(roles=[Role.RESEARCHER], with_totp=True)
    _token, raw = tokens.create_token(by=None, owner=researcher, label="lecture")
    assert _create_base(raw).status_code == 403


def test_a_revoked_token_is_refused_and_audited() -> None:
    owner = _producer()
    token, raw = tokens.create_token(by=owner, owner=owner, label="script")
    tokens.revoke_token(by=owner, token=token)
    assert AuditEvent.objects.filter(action="accounts.token.revoked").count() == 1
    response = _create_base(raw)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert _denials("revoked") == 1
    assert not Base.objects.filter(created_by=owner).exists()


def test_an_expired_token_is_refused() -> None:
    owner = _producer()
    _token, raw = tokens.create_token(by=owner, owner=owner, label="script", days=1)
    with clock.frozen(clock.now() + dt.timedelta(days=1, seconds=1)):
        assert _create_base(raw).status_code == 401
    assert _denials("expired") == 1


def test_the_token_of_a_deactivated_account_is_refused() -> None:
    owner = _producer()
    _token, raw = tokens.create_token(by=owner, owner=owner, label="script")
    User.objects.filter(pk=owner.pk).update(is_active=False)
    assert _create_base(raw).status_code == 401
    assert _denials("owner inactive") == 1


@pytest.mark.parametrize(
    "forged",
    [
        "hdh_" + "A" * 43,
        "hdh_",
        "x" * 5000,
        "' OR 1=1 --",
        "hdh_" + "é" * 43,
        "hdh_AAAA\x00",
    ],
)
def test_forged_or_malformed_tokens_are_refused(forged: str) -> None:
    owner = _producer()
    _token, raw = tokens.create_token(by=owner, owner=owner, label="script")
    assert tokens.authenticate(forged) is None
    assert tokens.authenticate(raw[:-1] + ("A" if raw[-1] != "A" else "B")) is None
    assert tokens.authenticate(raw.upper()) is None
    events = AuditEvent.objects.filter(action="accounts.token.denied")
    assert events.count() == 3
    # Only the prefix of a known token is recorded, never what was presented.
    assert all(set(e.details) <= {"reason", "prefix"} for e in events)
    assert all(raw not in json.dumps(e.details) for e in events)


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Bearer  hdh_x", "bearer hdh_" + "B" * 43])
def test_a_bad_bearer_header_is_refused_even_with_a_session(header: str) -> None:
    owner = _producer()
    client = Client()
    sign_in(client, owner)
    response = client.get(reverse("api:openapi-json"), HTTP_AUTHORIZATION=header)
    assert response.status_code == 401


def test_other_schemes_leave_the_session_alone() -> None:
    response = Client().get("/api/catalog/bases", HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")
    assert response.status_code == 200


def test_a_token_is_not_accepted_outside_the_api() -> None:
    owner = _producer()
    _token, raw = tokens.create_token(by=owner, owner=owner, label="script")
    response = Client().get(reverse("accounts:tokens"), HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 302  # to the sign-in page


def test_someone_elses_token_is_only_for_managers() -> None:
    owner, other = _producer(), _producer()
    with pytest.raises(NotAllowed):
        tokens.create_token(by=other, owner=owner, label="intrus")
    token, _raw = tokens.create_token(by=owner, owner=owner, label="script")
    with pytest.raises(NotAllowed):
        tokens.revoke_token(by=other, token=token)
    administrator = UserFactory(roles=[Role.ADMINISTRATOR], with_totp=True)
    assert tokens.revoke_token(by=administrator, token=token).revoked_at is not None


@pytest.mark.parametrize(
    ("label", "days"),
    [("", 90), ("  ", 90), ("x" * 101, 90), ("ok\x00", 90), ("ok", 0), ("ok", 366)],
)
def test_invalid_labels_and_durations_are_refused(label: str, days: int) -> None:
    owner = _producer()
    with pytest.raises(ValidationFailed):
        tokens.create_token(by=owner, owner=owner, label=label, days=days)
    assert not ApiToken.objects.exists()


def test_tokens_are_governed_rows() -> None:
    owner = _producer()
    token, _raw = tokens.create_token(by=owner, owner=owner, label="script")
    with pytest.raises(DirectWriteRefused):
        ApiToken.objects.filter(pk=token.pk).update(revoked_at=None, label="x")
    with pytest.raises(DirectWriteRefused):
        token.delete()


def test_the_account_page_creates_lists_and_revokes() -> None:
    owner = _producer()
    client = Client()
    sign_in(client, owner)
    response = client.post(reverse("accounts:tokens"), {"label": "mon script", "days": "30"})
    assert response.status_code == 200
    raw = response.context["created"]
    assert raw.startswith("hdh_")
    assert raw.encode() in response.content
    token = ApiToken.objects.get(owner=owner)
    again = client.get(reverse("accounts:tokens"))
    assert raw.encode() not in again.content
    assert token.prefix.encode() in again.content
    assert client.post(reverse("accounts:revoke_token", args=[token.pk])).status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert tokens.authenticate(raw) is None


def test_the_account_page_refuses_bad_input_and_foreign_tokens() -> None:
    owner, other = _producer(), _producer()
    foreign, _raw = tokens.create_token(by=other, owner=other, label="autre")
    client = Client()
    sign_in(client, owner)
    for data in ({"label": "", "days": "30"}, {"label": "x", "days": "9999"}, {"days": "abc"}):
        response = client.post(reverse("accounts:tokens"), data)
        assert response.status_code == 200
        assert response.context["created"] is None
    assert client.post(reverse("accounts:revoke_token", args=[foreign.pk])).status_code == 404
    assert client.get(reverse("accounts:revoke_token", args=[foreign.pk])).status_code == 405
    foreign.refresh_from_db()
    assert foreign.revoked_at is None
    assert Client().get(reverse("accounts:tokens")).status_code == 302


def test_the_command_prints_the_token_once() -> None:
    owner = _producer()
    out, err = io.StringIO(), io.StringIO()
    call_command("createtoken", owner.username, "--label", "ci", stdout=out, stderr=err)
    raw = out.getvalue().strip()
    assert tokens.authenticate(raw) == owner
    assert raw not in err.getvalue()
    with pytest.raises(CommandError):
        call_command("createtoken", "personne", "--label", "ci", stdout=out, stderr=err)
    with pytest.raises(CommandError):
        call_command("createtoken", owner.username, "--label", "", stdout=out, stderr=err)
    with pytest.raises(CommandError):
        call_command(
            "createtoken", owner.username, "--label", "ci", "--days", "-3", stdout=out, stderr=err
        )
