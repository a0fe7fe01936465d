"""OpenID Connect sign-in against a real provider started by the tests: code flow
with PKCE, state and nonce; the ID token's signature is checked against the JWKS;
the provider's identity fills the objection form and cannot be overridden."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests
from django.test import Client
from django.urls import reverse

from hdh.keys import nir as nir_rules
from hdh.preparation.models import ObjectionEntry
from tests.citizens import oidc_provider

pytestmark = pytest.mark.django_db
BODY = "2870263319179"  # a woman born in February 1987, as the provider says
NIR = f"{BODY}{nir_rules.control_key(BODY):02d}"


@pytest.fixture
def provider(settings) -> Iterator[oidc_provider.Provider]:  # type: ignore[no-untyped-def]
    with oidc_provider.running() as running:
        settings.HDH_OIDC_ISSUER = running.issuer
        settings.HDH_OIDC_CLIENT_ID = oidc_provider.CLIENT_ID
        settings.HDH_OIDC_CLIENT_SECRET = oidc_provider.CLIENT_SECRET
        yield running


def sign_in(client: Client) -> requests.Response:
    """Follow the redirects between the portal and the provider, as a browser does."""
    start = client.get(reverse("citizens:oidc_login"))
    assert start.status_code == 302
    at_provider = requests.get(start["Location"], allow_redirects=False, timeout=10)
    return at_provider


def back_to_portal(client: Client, at_provider: requests.Response):  # type: ignore[no-untyped-def]
    assert at_provider.status_code == 302, at_provider.text
    target = urlsplit(at_provider.headers["Location"])
    return client.get(f"{target.path}?{target.query}")


def test_sign_in_fills_the_identity_and_the_citizen_types_the_nir(
    provider: oidc_provider.Provider,
) -> None:
    client = Client()
    form_page = client.get(reverse("citizens:objection")).content.decode()
    assert 'id="oidc-login"' in form_page
    start = client.get(reverse("citizens:oidc_login"))
    query = dict(p.split("=", 1) for p in urlsplit(start["Location"]).query.split("&"))
    assert query["code_challenge_method"] == "S256"
    assert query["state"]
    assert query["nonce"]
    at_provider = requests.get(start["Location"], allow_redirects=False, timeout=10)
    returned = back_to_portal(client, at_provider)
    assert returned.status_code == 302
    assert returned["Location"] == reverse("citizens:objection")
    assert provider.pkce_checked == 1
    page = client.get(reverse("citizens:objection")).content.decode()
    assert 'id="oidc-identity"' in page
    assert 'value="Martin"' in page
    assert 'value="1987-02-28"' in page
    # Posted identity fields are ignored: the provider's identity is used.
    filed = client.post(
        reverse("citizens:objection"),
        {
            "nir": NIR,
            "confirm": "on",
            "birth_date": "1990-01-01",
            "sex": "1",
            "last_name": "Autre",
            "first_name": "Nom",
        },
    )
    assert filed.status_code == 302, filed.content.decode()[:3000]
    assert ObjectionEntry.objects.count() == 1
    # The session no longer holds the identity once used.
    assert "citizens_oidc_identity" not in client.session


def test_a_nir_that_disagrees_with_the_provider_identity_is_refused(
    provider: oidc_provider.Provider,
) -> None:
    client = Client()
    back_to_portal(client, sign_in(client))
    male = "1870263319179"
    response = client.post(
        reverse("citizens:objection"),
        {"nir": f"{male}{nir_rules.control_key(male):02d}", "confirm": "on"},
    )
    assert response.status_code == 400
    assert not ObjectionEntry.objects.exists()


@pytest.mark.parametrize("tamper", ["signature", "nonce", "audience", "expired", "issuer"])
def test_a_forged_or_replayed_id_token_is_refused(
    provider: oidc_provider.Provider, tamper: str
) -> None:
    provider.tamper = tamper
    client = Client()
    response = back_to_portal(client, sign_in(client))
    assert response.status_code == 400
    assert "citizens_oidc_identity" not in client.session


def test_a_callback_with_a_foreign_state_or_no_code_is_refused(
    provider: oidc_provider.Provider,
) -> None:
    client = Client()
    at_provider = sign_in(client)
    target = urlsplit(at_provider.headers["Location"])
    other = Client()  # another browser: its session never started this sign-in
    assert other.get(f"{target.path}?{target.query}").status_code == 400
    callback = reverse("citizens:oidc_callback")
    assert client.get(f"{callback}?state=x&code=y").status_code == 400
    assert client.get(f"{callback}?error=access_denied").status_code == 400
    assert client.get(f"{callback}?code={'x' * 5000}").status_code == 400


def test_without_configuration_there_is_no_sign_in(settings) -> None:  # type: ignore[no-untyped-def]
    settings.HDH_OIDC_ISSUER = ""
    client = Client()
    assert 'id="oidc-login"' not in client.get(reverse("citizens:objection")).content.decode()
    assert client.get(reverse("citizens:oidc_login")).status_code == 404
    assert client.get(reverse("citizens:oidc_callback")).status_code == 404
