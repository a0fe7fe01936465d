"""Creating and editing a base: validation, audit, who may edit."""

from __future__ import annotations

import pytest

from hdh.accounts.authorization import has_permission
from hdh.audit.models import AuditEvent
from hdh.catalog.models import Base
from hdh.catalog.services.bases import create_base, update_base
from hdh.core.errors import ValidationFailed
from hdh.core.permissions import Permission, Role
from tests.factories.accounts import OrganisationFactory, UserFactory
from tests.factories.catalog import base_values, create_test_base

pytestmark = pytest.mark.django_db


def test_creating_a_base_is_audited() -> None:
    base = create_test_base()
    event = AuditEvent.objects.get(action="catalog.base.created", target_id=str(base.pk))
    assert event.details == {"slug": base.slug}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"slug": "Pas un slug"}, "slug"),
        ({"slug": "../etc"}, "slug"),
        ({"doi": "doi:nope"}, "doi"),
        ({"title": ""}, "title"),
        ({"title": "x" * 301}, "title"),
        ({"health_category": "XXXX"}, "health_category"),
        ({"contact_email": "not-an-email"}, "contact_email"),
        ({"min_typical_age": 70, "max_typical_age": 20}, "age"),
        ({"max_typical_age": 500}, "max_typical_age"),
        ({"keywords": "not a list"}, "keywords"),
        ({"keywords": ["x" * 101]}, "keywords"),
        ({"description": "x" * 20001}, "description"),
        ({"homepage": "javascript:alert(1)"}, "homepage"),
    ],
)
def test_an_invalid_base_is_refused(overrides: dict[str, object], field: str) -> None:
    values = base_values(**overrides)
    slug = values.pop("slug")
    with pytest.raises(ValidationFailed) as error:
        create_base(slug=slug, by=None, **values)
    assert any(field in problem for problem in error.value.problems) or field == "age"
    assert not Base.objects.filter(slug=slug).exists()


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationFailed, match="current_version"):
        create_test_base(current_version=None)


def test_an_update_audits_the_changed_fields_only() -> None:
    base = create_test_base()
    update_base(base=base, by=None, title="Nouveau titre", acronym=base.acronym)
    event = AuditEvent.objects.get(action="catalog.base.updated", target_id=str(base.pk))
    assert event.details == {"fields": ["title"]}
    update_base(base=base, by=None, title="Nouveau titre")
    assert (
        AuditEvent.objects.filter(action="catalog.base.updated", target_id=str(base.pk)).count()
        == 1
    )
    with pytest.raises(ValidationFailed):
        update_base(base=base, by=None, slug="autre")


def test_producers_of_the_holder_organisation_edit_the_base() -> None:
    holder = OrganisationFactory()
    other = OrganisationFactory()
    base = create_test_base(holder_organisation=holder)
    own = UserFactory(organisation=holder, roles=[Role.DATA_PRODUCER])
    foreign = UserFactory(organisation=other, roles=[Role.DATA_PRODUCER])
    researcher = UserFactory(organisation=holder, roles=[Role.RESEARCHER])
    assert has_permission(own, Permission.CATALOG_EDIT, obj=base)
    assert not has_permission(foreign, Permission.CATALOG_EDIT, obj=base)
    assert not has_permission(researcher, Permission.CATALOG_EDIT, obj=base)
    assert has_permission(None, Permission.CATALOG_VIEW, obj=base)
