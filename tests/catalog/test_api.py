"""The catalog REST API: public reads, producer writes, hostile input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from hdh.accounts.models import Organisation, User
from hdh.audit.models import AuditEvent
from hdh.catalog.models import Base
from hdh.core.permissions import Role
from tests.accounts.helpers import sign_in
from tests.factories.accounts import OrganisationFactory, UserFactory
from tests.factories.catalog import base_values, create_test_base

pytestmark = pytest.mark.django_db


def _user(roles: list[Role], organisation: Organisation | None = None) -> User:
    organisation = organisation or OrganisationFactory()
    return UserFactory(roles=roles, organisation=organisation, with_totp=True)


def _signed_in(user: User) -> Client:
    client = Client()
    sign_in(client, user)
    return client


def _post(client: Client, url: str, body: Any) -> Any:
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(url, data, content_type="application/json")


def _patch(client: Client, url: str, body: Any) -> Any:
    data = body if isinstance(body, str) else json.dumps(body)
    return client.patch(url, data, content_type="application/json")


def test_anyone_reads_the_catalog(catalog: str) -> None:
    client = Client()
    bases = client.get("/api/catalog/bases").json()
    assert {"snds", "oscour"} <= {b["slug"] for b in bases}
    oscour = client.get("/api/catalog/bases/oscour").json()
    assert oscour["acronym"] == "OSCOUR"
    assert oscour["dictionary_version"] == 1
    tables = client.get("/api/catalog/bases/snds/tables").json()
    assert len(tables) == 188
    table = client.get("/api/catalog/bases/snds/tables/IR_BEN_R").json()
    assert table["primary_key"] == ["BEN_NIR_PSA", "BEN_RNG_GEM"]
    sex = next(v for v in table["variables"] if v["name"] == "BEN_SEX_COD")
    assert sex["code_list"] == "IR_SEX_V"
    codes = client.get("/api/catalog/bases/snds/code-lists/IR_SEX_V", {"q": "fém"}).json()
    assert codes["codes"] == [{"code": "2", "label": "FEMININ"}]
    found = client.get("/api/catalog/search", {"q": "urgences"}).json()
    assert found["hits"][0]["base"] == "oscour"


@pytest.mark.parametrize(
    "path",
    [
        "/api/catalog/bases/nope",
        "/api/catalog/bases/snds/tables/NOPE",
        "/api/catalog/bases/snds/code-lists/NOPE",
        "/api/catalog/bases/" + "a" * 2000,
    ],
)
def test_unknown_objects_are_404(catalog: str, path: str) -> None:
    assert Client().get(path).status_code == 404


@pytest.mark.parametrize(
    "params",
    [{"limit": "0"}, {"limit": "1000"}, {"offset": "-1"}, {"q": "x" * 201}, {"limit": "abc"}],
)
def test_search_parameters_are_checked(catalog: str, params: dict[str, str]) -> None:
    assert Client().get("/api/catalog/search", params).status_code == 422


# A NUL character is refused for every URL by the platform's middleware
# (tests/core/test_nul.py).
@pytest.mark.parametrize("q", ["' OR 1=1 --", "%_%", "日本", "<script>"])
def test_hostile_searches_answer(catalog: str, q: str) -> None:
    response = Client().get("/api/catalog/search", {"q": q})
    assert response.status_code == 200
    assert response.json()["total"] >= 0


def test_anonymous_and_researchers_cannot_write() -> None:
    assert _post(Client(), "/api/catalog/bases", base_values()).status_code == 401
    researcher = _signed_in(_user([Role.RESEARCHER]))
    assert _post(researcher, "/api/catalog/bases", base_values()).status_code == 403
    assert (
        not Base.objects.filter(title__startswith="Base de test").exclude(created_by=None).exists()
    )


def test_a_producer_creates_a_base_for_their_organisation() -> None:
    producer = _user([Role.DATA_PRODUCER])
    client = _signed_in(producer)
    values = base_values(keywords=["cancer"], min_typical_age=18, max_typical_age=99)
    response = _post(client, "/api/catalog/bases", values)
    assert response.status_code == 201, response.content
    base = Base.objects.get(slug=values["slug"])
    assert base.holder_organisation == producer.organisation
    assert base.created_by == producer
    assert AuditEvent.objects.filter(
        action="catalog.base.created", target_id=str(base.pk), actor_id=str(producer.pk)
    ).exists()
    assert response.json()["url"] == f"/catalogue/bases/{base.slug}/"


def test_only_the_holders_producers_edit_a_base() -> None:
    holder = OrganisationFactory()
    base = create_test_base(holder_organisation=holder)
    own = _signed_in(_user([Role.DATA_PRODUCER], holder))
    other = _signed_in(_user([Role.DATA_PRODUCER]))
    url = f"/api/catalog/bases/{base.slug}"
    assert _patch(other, url, {"title": "Détourné"}).status_code == 403
    response = _patch(own, url, {"title": "Nouveau titre", "keywords": ["a", "b"]})
    assert response.status_code == 200, response.content
    base.refresh_from_db()
    assert (base.title, base.keywords) == ("Nouveau titre", ["a", "b"])
    assert AuditEvent.objects.filter(action="permission.denied", target_id=str(base.pk)).exists()


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        "[]",
        "null",
        {"title": "x"},
        {**base_values(), "current_version": 1},
        {**base_values(), "slug": "../../etc"},
        {**base_values(), "title": "x" * 301},
        {**base_values(), "description": "x" * 20001},
        {**base_values(), "contact_email": "pas une adresse"},
        {**base_values(), "health_category": "NOPE"},
        {**base_values(), "doi": "not a doi"},
        {**base_values(), "keywords": "pas une liste"},
        {**base_values(), "keywords": ["x"] * 51},
        {**base_values(), "min_typical_age": 90, "max_typical_age": 10},
        {**base_values(), "number_of_records": -1},
        {**base_values(), "temporal_start": "hier"},
        {**base_values(), "homepage": "javascript:alert(1)"},
    ],
)
def test_bad_bodies_are_refused_with_a_reason(body: Any) -> None:
    client = _signed_in(_user([Role.DATA_PRODUCER]))
    before = Base.objects.count()
    response = _post(client, "/api/catalog/bases", body)
    assert response.status_code in (400, 422), response.content
    assert "detail" in response.json()
    assert Base.objects.count() == before


def test_a_duplicate_slug_is_refused() -> None:
    base = create_test_base()
    client = _signed_in(_user([Role.DATA_PRODUCER]))
    response = _post(client, "/api/catalog/bases", base_values(slug=base.slug))
    assert response.status_code == 422
    assert any("slug" in p for p in response.json()["problems"])


def test_the_openapi_spec_lists_the_catalog() -> None:
    spec = Client().get("/api/openapi.json").json()
    assert "/api/catalog/search" in spec["paths"]
    assert "post" in spec["paths"]["/api/catalog/bases"]
    assert Client().get("/api/docs").status_code == 200
