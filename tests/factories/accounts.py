"""Factories for organisations and accounts.

Roles and authenticators are governed rows: the factories give them through the
real services (``roles=[...]``, ``with_totp=True``), never by writing the rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import factory
from factory.django import DjangoModelFactory

from hdh.accounts import services, totp
from hdh.accounts.models import Organisation, User
from hdh.core.permissions import Role

DEFAULT_PASSWORD = "Un-mot-de-passe-solide-42"


class OrganisationFactory(DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Organisation de test {n}")
    acronym = factory.Sequence(lambda n: f"ORG{n}")
    kind = Organisation.Kind.RESEARCH_BODY


def _grant_roles(user: User, create: bool, extracted: Iterable[Role] | None, **_: Any) -> None:
    if not create or not extracted:
        return
    for role in extracted:
        services.grant_role(by=None, user=user, role=role)


def _enrol_totp(user: User, create: bool, extracted: str | None, **_: Any) -> None:
    if create:
        services.enrol_confirmed_totp(by=None, user=user, secret=extracted or totp.new_secret())


def _enrol_totp_if_given(user: User, create: bool, extracted: str | None, **_: Any) -> None:
    if extracted:
        _enrol_totp(user, create, extracted)


class UserFactory(DjangoModelFactory):
    """``UserFactory(roles=[Role.RESEARCHER], with_totp=True)``.

    With ``with_totp`` the account has a confirmed authenticator; its secret is
    ``user.totp_device.secret`` (or pass ``totp_secret="..."``).
    """

    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    class Params:
        with_totp = factory.Trait(totp_secret=factory.PostGeneration(_enrol_totp))

    username = factory.Sequence(lambda n: f"personne{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@exemple.fr")
    first_name = "Dominique"
    last_name = factory.Sequence(lambda n: f"Test{n}")
    organisation = factory.SubFactory(OrganisationFactory)
    password = factory.django.Password(DEFAULT_PASSWORD)

    roles = factory.PostGeneration(_grant_roles)
    totp_secret = factory.PostGeneration(_enrol_totp_if_given)
