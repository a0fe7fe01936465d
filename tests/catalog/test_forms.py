"""Producers describe and edit their bases through the pages' forms."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from hdh.accounts.models import Organisation, User
from hdh.audit.models import AuditEvent
from hdh.catalog.models import Base
from hdh.core.permissions import Role
from tests.accounts.helpers import sign_in
from tests.factories.accounts import OrganisationFactory, UserFactory
from tests.factories.catalog import base_values, create_test_base

pytestmark = pytest.mark.django_db


def _signed_in(roles: list[Role], organisation: Organisation | None = None) -> tuple[Client, User]:
    user = UserFactory(
        roles=roles, organisation=organisation or OrganisationFactory(), with_totp=True
    )
    client = Client()
    sign_in(client, user)
    return client, user


def _form(base: Base, **changes: Any) -> dict[str, Any]:
    data = {
        name: getattr(base, name)
        for name in (
            "title",
            "acronym",
            "kind",
            "doi",
            "hdh_reference",
            "homepage",
            "description",
            "objective",
            "medical_domain",
            "health_category",
            "funding",
            "data_holder",
            "scientific_contact_name",
            "scientific_contact_email",
            "contact_name",
            "contact_email",
            "hdab_name",
            "hdab_email",
            "access_rights",
            "legal_basis",
            "retention_period",
            "spatial_coverage",
            "population_coverage",
            "update_frequency",
            "citation",
            "acknowledgement",
        )
    }
    data.update(
        {
            "keywords": ", ".join(base.keywords),
            "coding_systems": ", ".join(base.coding_systems),
            "temporal_start": "",
            "temporal_end": "",
            "min_typical_age": "",
            "max_typical_age": "",
            "number_of_records": "",
            "number_of_unique_individuals": "",
        }
    )
    data.update(changes)
    return data


def test_a_producer_edits_their_base() -> None:
    holder = OrganisationFactory()
    base = create_test_base(holder_organisation=holder)
    client, user = _signed_in([Role.DATA_PRODUCER], holder)
    page = client.get(base.get_absolute_url()).content.decode()
    edit = reverse("catalog:base_edit", kwargs={"slug": base.slug})
    assert edit in page
    assert client.get(edit).status_code == 200
    response = client.post(
        edit,
        _form(
            base,
            title="Titre revu",
            keywords="cancer, registre ; suivi",
            min_typical_age="0",
            max_typical_age="18",
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    base.refresh_from_db()
    assert base.title == "Titre revu"
    assert base.keywords == ["cancer", "registre", "suivi"]
    assert (base.min_typical_age, base.max_typical_age) == (0, 18)
    event = AuditEvent.objects.get(action="catalog.base.updated", target_id=str(base.pk))
    assert event.actor_id == str(user.pk)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"title": ""}, "title"),
        ({"contact_email": "pas-une-adresse"}, "contact_email"),
        ({"doi": "xx"}, "doi"),
        ({"min_typical_age": "60", "max_typical_age": "10"}, "catalog_base_age_range"),
        ({"keywords": ", ".join(["mot"] * 51)}, "keywords"),
        ({"keywords": "x" * 101}, "keywords"),
        ({"description": "x" * 20001}, "description"),
        ({"health_category": "NOPE"}, "health_category"),
        ({"homepage": "javascript:alert(1)"}, "homepage"),
    ],
)
def test_invalid_edits_are_shown_and_nothing_changes(changes: dict[str, str], message: str) -> None:
    holder = OrganisationFactory()
    base = create_test_base(holder_organisation=holder)
    client, _ = _signed_in([Role.DATA_PRODUCER], holder)
    response = client.post(
        reverse("catalog:base_edit", kwargs={"slug": base.slug}), _form(base, **changes)
    )
    assert response.status_code == 200
    assert "fr-error-text" in response.content.decode() or "fr-alert--error" in (
        response.content.decode()
    )
    before = base.title
    base.refresh_from_db()
    assert base.title == before
    assert not AuditEvent.objects.filter(
        action="catalog.base.updated", target_id=str(base.pk)
    ).exists()


def test_others_may_not_edit() -> None:
    base = create_test_base(holder_organisation=OrganisationFactory())
    edit = reverse("catalog:base_edit", kwargs={"slug": base.slug})
    anonymous = Client().get(edit)
    assert anonymous.status_code == 302
    assert reverse("accounts:login") in anonymous["Location"]
    other, _ = _signed_in([Role.DATA_PRODUCER])
    assert other.get(edit).status_code == 403
    assert other.post(edit, _form(base, title="Détourné")).status_code == 403
    assert edit not in other.get(base.get_absolute_url()).content.decode()
    researcher, _ = _signed_in([Role.RESEARCHER], base.holder_organisation)
    assert researcher.post(edit, _form(base, title="Détourné")).status_code == 403
    base.refresh_from_db()
    assert base.title != "Détourné"


def test_a_producer_describes_a_new_base() -> None:
    client, user = _signed_in([Role.DATA_PRODUCER])
    assert reverse("catalog:base_create") in client.get(reverse("catalog:index")).content.decode()
    values = base_values()
    template = create_test_base()
    response = client.post(
        reverse("catalog:base_create"),
        {**_form(template), **{k: v for k, v in values.items() if isinstance(v, str)}},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    base = Base.objects.get(slug=values["slug"])
    assert base.holder_organisation == user.organisation
    assert response["Location"] == base.get_absolute_url()
    duplicate = client.post(
        reverse("catalog:base_create"), {**_form(template), "slug": values["slug"]}
    )
    assert duplicate.status_code == 200


def test_the_form_needs_a_csrf_token() -> None:
    holder = OrganisationFactory()
    base = create_test_base(holder_organisation=holder)
    user = UserFactory(roles=[Role.DATA_PRODUCER], organisation=holder, with_totp=True)
    signed_in = Client()
    sign_in(signed_in, user)
    client = Client(enforce_csrf_checks=True)
    client.cookies = signed_in.cookies
    response = client.post(
        reverse("catalog:base_edit", kwargs={"slug": base.slug}), _form(base, title="Sans jeton")
    )
    assert response.status_code == 403
