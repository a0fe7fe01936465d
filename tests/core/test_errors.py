from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django.views import defaults

SECRET = "internal reason that must not be shown"


@pytest.fixture
def failing_client(settings) -> Client:  # type: ignore[no-untyped-def]
    settings.ROOT_URLCONF = "tests.core.urls"
    return Client(raise_request_exception=False)


def _assert_dsfr_error_page(html: str, code: int, heading: str) -> None:
    assert '<html lang="fr"' in html
    assert 'class="fr-header"' in html
    assert 'class="fr-footer"' in html
    assert f"<h1>{heading}</h1>" in html
    assert f"Erreur {code}" in html
    assert SECRET not in html


@pytest.mark.django_db
def test_404_page(client: Client) -> None:
    response = client.get("/cette-page-n-existe-pas")

    assert response.status_code == 404
    html = response.content.decode()
    _assert_dsfr_error_page(html, 404, "Page non trouvée")
    assert 'class="fr-nav__list"' in html


@pytest.mark.django_db
def test_403_page(failing_client: Client) -> None:
    response = failing_client.get("/test-errors/403")

    assert response.status_code == 403
    _assert_dsfr_error_page(response.content.decode(), 403, "Accès refusé")


@pytest.mark.django_db
def test_400_page(failing_client: Client) -> None:
    response = failing_client.get("/test-errors/400")

    assert response.status_code == 400
    _assert_dsfr_error_page(response.content.decode(), 400, "Requête incorrecte")


@pytest.mark.django_db
def test_500_page(failing_client: Client) -> None:
    response = failing_client.get("/test-errors/500")

    assert response.status_code == 500
    _assert_dsfr_error_page(response.content.decode(), 500, "Erreur inattendue")


@pytest.mark.django_db
def test_csrf_failure_page(settings) -> None:  # type: ignore[no-untyped-def]
    client = Client(enforce_csrf_checks=True)

    response = client.post("/i18n/setlang/", {"language": "en"})

    assert response.status_code == 403
    _assert_dsfr_error_page(response.content.decode(), 403, "Formulaire expiré")


@pytest.mark.django_db
def test_error_pages_follow_the_active_language(client: Client) -> None:
    response = client.get("/cette-page-n-existe-pas", headers={"accept-language": "en"})

    html = response.content.decode()
    assert '<html lang="en"' in html
    assert "<h1>Page not found</h1>" in html


def test_500_page_needs_neither_database_nor_request_context(rf: RequestFactory) -> None:
    # No django_db mark: pytest-django makes any query in this test raise.
    response = defaults.server_error(rf.get("/"))

    assert response.status_code == 500
    _assert_dsfr_error_page(response.content.decode(), 500, "Erreur inattendue")
