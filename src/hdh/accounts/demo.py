"""Demonstration accounts: one per platform role, with public passwords and TOTP secrets.

Refused in production mode. Running it again changes nothing that exists; it
adds what is missing (an account, its role, its authenticator).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from hdh.accounts import services
from hdh.accounts.authorization import user_roles
from hdh.accounts.models import Organisation, TOTPDevice, User
from hdh.core.errors import InvalidState
from hdh.core.permissions import Role

DEMO_EMAIL_DOMAIN = "demo.hdh.example"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    roles: tuple[Role, ...]
    totp_secret: str


@dataclass(frozen=True)
class _Org:
    name: str
    acronym: str
    kind: str


@dataclass(frozen=True)
class _Person:
    role: Role
    username: str
    first_name: str
    last_name: str
    organisation: str
    password: str


_ORGANISATIONS = (
    _Org(
        "Institut de recherche en santé publique (démonstration)",
        "IRSP-DEMO",
        Organisation.Kind.RESEARCH_BODY,
    ),
    _Org(
        "Centre hospitalier universitaire (démonstration)", "CHU-DEMO", Organisation.Kind.HOSPITAL
    ),
    _Org(
        "Plateforme des données de santé (démonstration)",
        "PDS-DEMO",
        Organisation.Kind.PUBLIC_AGENCY,
    ),
)

_PEOPLE = (
    _Person(
        Role.RESEARCHER, "demo-researcher", "Camille", "Martin", "IRSP-DEMO", "Demo-Chercheur-2025!"
    ),
    _Person(
        Role.DATA_PRODUCER,
        "demo-data-producer",
        "Louis",
        "Bernard",
        "CHU-DEMO",
        "Demo-Entrepot-2025!",
    ),
    _Person(
        Role.GUICHET_OFFICER,
        "demo-guichet-officer",
        "Inès",
        "Petit",
        "PDS-DEMO",
        "Demo-Instruction-2025!",
    ),
    _Person(
        Role.COMMITTEE_MEMBER,
        "demo-committee-member",
        "Hugo",
        "Durand",
        "IRSP-DEMO",
        "Demo-Comite-2025!",
    ),
    _Person(Role.REGULATOR, "demo-regulator", "Sarah", "Leroy", "PDS-DEMO", "Demo-Decision-2025!"),
    _Person(
        Role.DATA_ENGINEER,
        "demo-data-engineer",
        "Nathan",
        "Moreau",
        "PDS-DEMO",
        "Demo-Extraction-2025!",
    ),
    _Person(
        Role.OUTPUT_CHECKER,
        "demo-output-checker",
        "Léa",
        "Simon",
        "PDS-DEMO",
        "Demo-Sorties-2025!",
    ),
    _Person(
        Role.OUTPUT_CHECKER,
        "demo-output-checker-2",
        "Marc",
        "Fournier",
        "PDS-DEMO",
        "Demo-Sorties-Bis-2025!",
    ),
    _Person(
        Role.RESEARCHER,
        "demo-researcher-2",
        "Emma",
        "Girard",
        "IRSP-DEMO",
        "Demo-Epidemio-2025!",
    ),
    _Person(Role.AUDITOR, "demo-auditor", "Paul", "Laurent", "PDS-DEMO", "Demo-Tracabilite-2025!"),
    _Person(Role.ADMINISTRATOR, "demo-admin", "Alice", "Michel", "PDS-DEMO", "Demo-Gestion-2025!"),
)


def demo_totp_secret(username: str) -> str:
    """A fixed secret per demonstration account (160 bits, base32)."""
    digest = hashlib.sha256(f"hdh-demo-totp:{username}".encode()).digest()[:20]
    return base64.b32encode(digest).decode("ascii")


def _organisation(spec: _Org) -> Organisation:
    existing = Organisation.objects.filter(name=spec.name).first()
    if existing is not None:
        return existing
    return services.create_organisation(
        by=None, name=spec.name, acronym=spec.acronym, kind=spec.kind
    )


def _account(person: _Person, organisation: Organisation) -> DemoAccount:
    secret = demo_totp_secret(person.username)
    user = User.objects.filter(username=person.username).first()
    if user is None:
        user = services.create_user(
            by=None,
            username=person.username,
            email=f"{person.username}@{DEMO_EMAIL_DOMAIN}",
            password=person.password,
            first_name=person.first_name,
            last_name=person.last_name,
            organisation=organisation,
            roles=[person.role],
            is_demo=True,
        )
    elif not user.is_demo:
        raise InvalidState(
            _("« %(username)s » existe et n'est pas un compte de démonstration.")
            % {"username": person.username}
        )
    elif person.role not in user_roles(user):
        services.grant_role(by=None, user=user, role=person.role)
    if services.confirmed_device(user) is None:
        if TOTPDevice.objects.filter(user_id=user.pk).exists():
            services.reset_totp(by=None, user=user)
        services.enrol_confirmed_totp(by=None, user=user, secret=secret)
        secret_in_use = secret
    else:
        secret_in_use = TOTPDevice.objects.get(user_id=user.pk).secret
    return DemoAccount(
        username=person.username,
        password=person.password,
        roles=(person.role,),
        totp_secret=secret_in_use,
    )


def create_demo_accounts() -> list[DemoAccount]:
    if settings.PRODUCTION:
        raise InvalidState(_("Pas de comptes de démonstration en mode production."))
    with transaction.atomic():
        organisations = {spec.acronym: _organisation(spec) for spec in _ORGANISATIONS}
        return [_account(person, organisations[person.organisation]) for person in _PEOPLE]
