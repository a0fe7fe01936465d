"""Public pages open to anyone; the report counts what the directory publishes; each
base lists the projects whose active permit includes it."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from hdh.access.states import State
from hdh.citizens import figures
from tests.factories.access import create_application_at
from tests.factories.catalog import create_test_base

pytestmark = pytest.mark.django_db

PAGES = [
    "citizens:index",
    "citizens:protection",
    "citizens:dpo",
    "citizens:report",
    "citizens:bases",
    "citizens:objection",
    "citizens:objection_status",
    "citizens:rights",
    "citizens:rights_status",
]


@pytest.mark.parametrize("name", PAGES)
def test_public_pages_need_no_sign_in(name: str) -> None:
    response = Client().get(reverse(name))
    assert response.status_code == 200
    assert 'lang="fr"' in response.content.decode()


def test_the_dpo_page_shows_the_configured_contact(settings) -> None:  # type: ignore[no-untyped-def]
    settings.HDH_DPO_NAME = "Mme Claire Dupont"
    settings.HDH_DPO_EMAIL = "dpo@example.org"
    settings.HDH_DPO_ADDRESS = "1 rue de la Santé, 75014 Paris"
    body = Client().get(reverse("citizens:dpo")).content.decode()
    for text in ("Mme Claire Dupont", "mailto:dpo@example.org", "1 rue de la Santé"):
        assert text in body


def test_the_report_and_the_base_pages_show_authorised_projects() -> None:
    authorised = create_application_at(State.CONTRACT_SIGNED)
    create_application_at(State.REFUSED)
    base = authorised.perimeter.first().base
    other = create_test_base(slug="autre-base", title="Autre base")
    rows = figures.years()
    assert sum(r.filed for r in rows) == 2
    assert sum(r.authorised for r in rows) == 1
    assert sum(r.refused for r in rows) == 1
    assert figures.totals()["active_permits"] == 1
    assert figures.projects_using(base) == [authorised]
    assert figures.projects_using(other) == []
    client = Client()
    page = client.get(reverse("citizens:base", args=[base.slug])).content.decode()
    assert authorised.project.reference in page
    assert reverse("access:directory_project", args=[authorised.project.reference]) in page
    assert (
        "Aucun projet autorisé"
        in client.get(reverse("citizens:base", args=[other.slug])).content.decode()
    )
    # The catalog's base page links to this list, with the count.
    catalog_page = client.get(reverse("catalog:base", args=[base.slug])).content.decode()
    assert reverse("citizens:base", args=[base.slug]) in catalog_page
    assert "1 projet dispose d" in catalog_page
    other_page = client.get(reverse("catalog:base", args=[other.slug])).content.decode()
    assert reverse("citizens:base", args=[other.slug]) in other_page
    report = client.get(reverse("citizens:report")).content.decode()
    assert "years-chart" in report
    assert client.get(reverse("citizens:base", args=["nope"])).status_code == 404


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_public_pages_refuse_other_methods(method: str) -> None:
    assert getattr(Client(), method)(reverse("citizens:index")).status_code == 405
