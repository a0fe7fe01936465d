"""A NUL character in a URL or a JSON body gets a clear 400 on every route, never a server
error (PostgreSQL cannot store text holding one), and nothing is written."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from hdh.access.models import Application
from hdh.accounts import tokens
from tests.factories.access import researcher


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/api/catalog/bases/a%00b",
        "/catalogue/bases/a%00b/",
        "/catalogue/recherche/?q=nir%00",
        "/comptes/connexion/?next=/%00",
        "/%00",
    ],
)
def test_nul_in_the_url_is_refused(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 400
    assert "Caractère nul" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"title": "\x00", "legal_route": "mr007"}, "body.title"),
        ({"title": "Étude", "legal_route": "mr\x00007"}, "body.legal_route"),
        ({"title": "Étude", "legal_route": "mr007", "x": {"y": ["ok", "a\x00"]}}, "body.x.y.1"),
        ({"ti\x00tle": "Étude", "legal_route": "mr007"}, "body"),
    ],
)
def test_nul_in_a_json_body_is_refused_and_nothing_is_filed(
    client: Client, body: dict[str, object], where: str
) -> None:
    user = researcher(with_totp=True)
    _token, raw = tokens.create_token(by=None, owner=user, label="nul")
    before = Application.objects.count()
    response = client.post(
        "/api/access/applications",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": f"Caractère nul refusé dans le corps de la requête ({where})."
    }
    assert Application.objects.count() == before


@pytest.mark.django_db
def test_a_json_body_that_is_not_json_still_gets_the_api_answer(client: Client) -> None:
    user = researcher(with_totp=True)
    _token, raw = tokens.create_token(by=None, owner=user, label="nul")
    response = client.post(
        "/api/access/applications",
        data=b"{\x00",
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 400
    assert "detail" in response.json()


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["a\x00b", "a%00b"])
def test_nul_in_a_form_field_is_refused(client: Client, username: str) -> None:
    response = client.post(
        "/comptes/connexion/",
        data=f"username={username}&password=x".encode(),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert "Caractère nul refusé dans le formulaire." in response.content.decode()


@pytest.mark.django_db
def test_nul_in_a_multipart_field_is_refused_by_the_form(client: Client) -> None:
    response = client.post("/comptes/connexion/", {"username": "a\x00b", "password": "x"})
    assert response.status_code == 200  # the form again, with its error
    page = response.content.decode()
    assert "Le caractère nul n’est pas autorisé." in page or "Null characters" in page
