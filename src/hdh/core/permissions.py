"""What people may do: a permissions enum and roles declared as data.

Platform roles are held by a user across the platform; project roles come from
an application (controller, scientific lead, member) and hold only on that
project's objects. ``hdh.accounts.authorization.has_permission`` is the one
place that answers "may this user…?"; this module only declares.

Domains add object-level rules and project-role resolvers through the two
registries at the bottom, the same way a third party would.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class Permission(enum.StrEnum):
    # Public (anyone, signed in or not)
    CATALOG_VIEW = "catalog.view"
    DIRECTORY_VIEW = "directory.view"
    # Catalog and lake
    CATALOG_EDIT = "catalog.edit"
    LAKE_DEPOSIT = "lake.deposit"
    LAKE_VIEW_PROFILES = "lake.view_profiles"
    SYNTHETIC_DOWNLOAD = "synth.download"
    # Guichet (access applications)
    APPLICATION_CREATE = "application.create"
    APPLICATION_VIEW = "application.view"
    APPLICATION_EDIT = "application.edit"
    APPLICATION_ADMISSIBILITY = "application.admissibility"
    APPLICATION_REVIEW = "application.review"
    APPLICATION_DECIDE = "application.decide"
    APPLICATION_CONTRACT = "application.contract"
    # Preparation
    PREPARATION_VIEW = "preparation.view"
    PREPARATION_RUN = "preparation.run"
    # Workspace
    WORKSPACE_ACCESS = "workspace.access"
    WORKSPACE_QUERY = "workspace.query"
    WORKSPACE_RUN_JOB = "workspace.run_job"
    # Airlock
    RELEASE_REQUEST = "release.request"
    RELEASE_REVIEW = "release.review"
    RELEASE_DOWNLOAD = "release.download"
    # Citizens' rights
    RIGHTS_REQUEST_HANDLE = "rights.handle"
    OPPOSITION_REGISTER_VIEW = "opposition.view"
    # Evidence and administration
    AUDIT_VIEW = "audit.view"
    AUDIT_VERIFY = "audit.verify"
    ACCOUNTS_MANAGE = "accounts.manage"
    ADMIN_SITE = "admin.site"


PUBLIC_PERMISSIONS: frozenset[Permission] = frozenset(
    {Permission.CATALOG_VIEW, Permission.DIRECTORY_VIEW}
)


class Role(enum.StrEnum):
    """Platform roles, held across the platform."""

    RESEARCHER = "researcher"
    DATA_PRODUCER = "data_producer"
    GUICHET_OFFICER = "guichet_officer"
    COMMITTEE_MEMBER = "committee_member"
    REGULATOR = "regulator"
    DATA_ENGINEER = "data_engineer"
    OUTPUT_CHECKER = "output_checker"
    AUDITOR = "auditor"
    ADMINISTRATOR = "administrator"


class ProjectRole(enum.StrEnum):
    """Roles on one project, given by its application."""

    CONTROLLER = "controller"
    SCIENTIFIC_LEAD = "scientific_lead"
    MEMBER = "member"


@dataclass(frozen=True)
class RoleSpec:
    label: str | Promise
    description: str | Promise
    permissions: frozenset[Permission]
    # SNDS security rules: two factors for anyone who can see non-public data.
    sees_non_public_data: bool = True


P = Permission

ROLES: dict[Role, RoleSpec] = {
    Role.RESEARCHER: RoleSpec(
        label=_("Chercheur ou chercheuse"),
        description=_(
            "Cherche dans le catalogue, dépose des demandes, travaille dans les projets autorisés."
        ),
        permissions=frozenset({P.APPLICATION_CREATE, P.SYNTHETIC_DOWNLOAD, P.LAKE_VIEW_PROFILES}),
    ),
    Role.DATA_PRODUCER: RoleSpec(
        label=_("Producteur de données"),
        description=_("Décrit ses bases dans le catalogue et dépose leurs données dans le lac."),
        permissions=frozenset({P.CATALOG_EDIT, P.LAKE_DEPOSIT, P.LAKE_VIEW_PROFILES}),
    ),
    Role.GUICHET_OFFICER: RoleSpec(
        label=_("Agent du guichet"),
        description=_(
            "Vérifie la recevabilité des demandes et les suit tout au long de leur instruction."
        ),
        permissions=frozenset(
            {P.APPLICATION_VIEW, P.APPLICATION_ADMISSIBILITY, P.APPLICATION_CONTRACT}
        ),
    ),
    Role.COMMITTEE_MEMBER: RoleSpec(
        label=_("Membre du comité scientifique et éthique"),
        description=_(
            "Rend des avis scientifiques et éthiques sur les demandes qui lui sont confiées."
        ),
        permissions=frozenset({P.APPLICATION_VIEW, P.APPLICATION_REVIEW}),
    ),
    Role.REGULATOR: RoleSpec(
        label=_("Autorité de régulation"),
        description=_("Autorise ou refuse les demandes (la CNIL en France)."),
        permissions=frozenset({P.APPLICATION_VIEW, P.APPLICATION_DECIDE}),
    ),
    Role.DATA_ENGINEER: RoleSpec(
        label=_("Ingénieur de données"),
        description=_("Valide et exécute les plans d'extraction des projets autorisés."),
        permissions=frozenset({P.PREPARATION_VIEW, P.PREPARATION_RUN, P.LAKE_VIEW_PROFILES}),
    ),
    Role.OUTPUT_CHECKER: RoleSpec(
        label=_("Contrôleur de sorties"),
        description=_("Examine les demandes de sortie de résultats dans le sas."),
        permissions=frozenset({P.RELEASE_REVIEW}),
    ),
    Role.AUDITOR: RoleSpec(
        label=_("Auditeur ou délégué à la protection des données"),
        description=_(
            "Consulte et vérifie le journal d'audit ; traite les demandes d'exercice des droits."
        ),
        permissions=frozenset(
            {P.AUDIT_VIEW, P.AUDIT_VERIFY, P.RIGHTS_REQUEST_HANDLE, P.OPPOSITION_REGISTER_VIEW}
        ),
    ),
    Role.ADMINISTRATOR: RoleSpec(
        label=_("Administrateur"),
        description=_("Gère les comptes, les organisations et les rôles."),
        permissions=frozenset({P.ACCOUNTS_MANAGE, P.ADMIN_SITE, P.AUDIT_VERIFY}),
    ),
}

# What every project member may do; leads also edit the application.
_PROJECT_WORK = frozenset(
    {
        P.APPLICATION_VIEW,
        P.WORKSPACE_ACCESS,
        P.WORKSPACE_QUERY,
        P.WORKSPACE_RUN_JOB,
        P.RELEASE_REQUEST,
        P.RELEASE_DOWNLOAD,
    }
)

PROJECT_ROLES: dict[ProjectRole, RoleSpec] = {
    ProjectRole.CONTROLLER: RoleSpec(
        label=_("Responsable de traitement"),
        description=_("Répond du traitement ; gère l'équipe du projet."),
        permissions=_PROJECT_WORK | {P.APPLICATION_EDIT},
    ),
    ProjectRole.SCIENTIFIC_LEAD: RoleSpec(
        label=_("Responsable scientifique"),
        description=_("Dirige l'analyse ; dépose et modifie la demande."),
        permissions=_PROJECT_WORK | {P.APPLICATION_EDIT},
    ),
    ProjectRole.MEMBER: RoleSpec(
        label=_("Membre du projet"),
        description=_("Analyse les données préparées du projet dans son espace."),
        permissions=_PROJECT_WORK,
    ),
}


def permissions_of(roles: set[Role] | frozenset[Role]) -> frozenset[Permission]:
    granted: set[Permission] = set(PUBLIC_PERMISSIONS)
    for role in roles:
        granted |= ROLES[role].permissions
    return frozenset(granted)


def project_permissions_of(
    roles: set[ProjectRole] | frozenset[ProjectRole],
) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for role in roles:
        granted |= PROJECT_ROLES[role].permissions
    return frozenset(granted)


# --- Extension points ------------------------------------------------------------
# An object rule may veto a permission on a given object even when a role grants
# it (e.g. "nobody reviews an application they are part of"). It returns a reason
# string to deny, or None to let the decision stand.
ObjectRule = Callable[[Any, Permission, Any], str | None]
# A project-role resolver tells which project roles a user holds on an object.
ProjectRoleResolver = Callable[[Any, Any], frozenset[ProjectRole] | None]

_object_rules: list[tuple[type, ObjectRule]] = []
_resolvers: list[tuple[type, ProjectRoleResolver]] = []


def register_object_rule(model: type, rule: ObjectRule) -> None:
    _object_rules.append((model, rule))


def register_project_role_resolver(model: type, resolver: ProjectRoleResolver) -> None:
    _resolvers.append((model, resolver))


def object_rules_for(obj: Any) -> list[ObjectRule]:
    return [rule for model, rule in _object_rules if isinstance(obj, model)]


def resolvers_for(obj: Any) -> list[ProjectRoleResolver]:
    return [resolver for model, resolver in _resolvers if isinstance(obj, model)]
