"""The public catalog pages."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> Client:
    return Client()


def test_home_shows_counts_and_bases(catalog: str, client: Client) -> None:
    response = client.get(reverse("catalog:index"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "4821" in page
    assert "189" in page
    assert "OSCOUR" in page
    assert reverse("catalog:base", kwargs={"slug": "oscour"}) in page
    assert reverse("catalog:index") == "/catalogue/"


def test_search_page_lists_hits_with_facets(catalog: str, client: Client) -> None:
    response = client.get(reverse("catalog:search"), {"q": "diagnostic principal"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "DGN_PAL" in page
    assert "T_MCOaaB" in page
    assert "kind=variable" in page
    filtered = client.get(reverse("catalog:search"), {"q": "sexe", "kind": "table"})
    assert filtered.status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {"q": "<script>alert(1)</script>"},
        {"q": "x", "page": "-3"},
        {"q": "x", "page": "abc"},
        {"q": "urgences", "page": "999"},
        {"kind": "x" * 5000},
    ],
)
def test_search_page_survives_hostile_parameters(
    catalog: str, client: Client, params: dict[str, str]
) -> None:
    response = client.get(reverse("catalog:search"), params)
    assert response.status_code == 200
    assert b"<script>alert(1)</script>" not in response.content


def test_base_page_like_the_hdh_oscour_page(catalog: str, client: Client) -> None:
    page = client.get(reverse("catalog:base", kwargs={"slug": "oscour"})).content.decode()
    for label in (
        "Général",
        "Titre",
        "URL",
        "Acronyme",
        "Identifiant DOI",
        "Référence catalogue HDH",
        "Domaine médical",
        "Mots-clés",
        "Financements",
        "passages aux urgences",
        "voir plus",
        "RPU",
    ):
        assert label in page, label


def test_snds_base_page_lists_every_table(catalog: str, client: Client) -> None:
    page = client.get(reverse("catalog:base", kwargs={"slug": "snds"})).content.decode()
    assert "188 tables" in page
    assert "/catalogue/bases/snds/tables/ER_PRS_F/" in page


def test_table_page_shows_variables_keys_and_related_tables(catalog: str, client: Client) -> None:
    url = reverse("catalog:table", kwargs={"slug": "snds", "table": "ER_PRS_F"})
    page = client.get(url).content.decode()
    assert "BEN_NIR_PSA" in page
    assert "Clé primaire" in page
    assert reverse("catalog:table", kwargs={"slug": "snds", "table": "IR_BEN_R"}) in page
    referenced = client.get(reverse("catalog:table", kwargs={"slug": "snds", "table": "IR_BEN_R"}))
    assert "ER_PRS_F" in referenced.content.decode()


def test_variable_page_shows_its_code_list(catalog: str, client: Client) -> None:
    url = reverse(
        "catalog:variable", kwargs={"slug": "snds", "table": "IR_BEN_R", "variable": "BEN_SEX_COD"}
    )
    page = client.get(url).content.decode()
    assert "IR_SEX_V" in page
    assert "FEMININ" in page


def test_code_list_page_searches_its_codes(catalog: str, client: Client) -> None:
    url = reverse("catalog:code_list", kwargs={"slug": "snds", "name": "IR_SEX_V"})
    page = client.get(url, {"q": "féminin"}).content.decode()
    assert "FEMININ" in page
    assert "MASCULIN" not in page
    assert client.get(url, {"q": "%"}).status_code == 200
    big = reverse("catalog:code_list", kwargs={"slug": "snds", "name": "IR_CIM_V"})
    response = client.get(big, {"page": "99999999999999"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/catalogue/bases/nope/",
        "/catalogue/bases/snds/tables/NOPE/",
        "/catalogue/bases/snds/tables/..%2F..%2Fetc/",
        "/catalogue/bases/snds/tables/IR_BEN_R/NOPE/",
        "/catalogue/bases/snds/nomenclatures/NOPE/",
        "/catalogue/bases/snds/tables/" + "A" * 3000 + "/",
    ],
)
def test_unknown_objects_are_404(catalog: str, client: Client, path: str) -> None:
    assert client.get(path).status_code == 404


def test_pages_are_read_only(catalog: str, client: Client) -> None:
    assert client.post(reverse("catalog:index")).status_code in (403, 405)
