from __future__ import annotations

from dataclasses import dataclass, field
from unittest import mock

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from hdh.accounts import authorization, services
from hdh.accounts.authorization import (
    has_permission,
    permission_required,
    require_permission,
    user_roles,
)
from hdh.accounts.models import RoleAssignment
from hdh.core import permissions as declared
from hdh.core.errors import NotAllowed
from hdh.core.governance import service_writes
from hdh.core.permissions import (
    PROJECT_ROLES,
    PUBLIC_PERMISSIONS,
    ROLES,
    Permission,
    ProjectRole,
    Role,
)
from tests.accounts.helpers import events
from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db


@dataclass
class Project:
    """Stands for a domain object that project roles apply to."""

    pk: int
    members: dict[int, ProjectRole] = field(default_factory=dict)
    frozen: bool = False


@pytest.fixture
def registries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Empty extension registries, restored after the test."""
    monkeypatch.setattr(declared, "_object_rules", [])
    monkeypatch.setattr(declared, "_resolvers", [])


def _member_roles(user: object, obj: Project) -> frozenset[ProjectRole] | None:
    role = obj.members.get(getattr(user, "pk", None) or -1)
    return frozenset({role}) if role else None


@pytest.mark.parametrize("role", list(Role))
def test_every_role_holds_exactly_its_declared_permissions(role: Role) -> None:
    user = UserFactory(roles=[role])

    granted = {perm for perm in Permission if has_permission(user, perm, audit=False)}

    assert granted == set(ROLES[role].permissions) | set(PUBLIC_PERMISSIONS)


def test_roles_add_up() -> None:
    user = UserFactory(roles=[Role.RESEARCHER, Role.AUDITOR])

    assert has_permission(user, Permission.APPLICATION_CREATE)
    assert has_permission(user, Permission.AUDIT_VIEW)
    assert user_roles(user) == frozenset({Role.RESEARCHER, Role.AUDITOR})


def test_a_user_without_roles_gets_only_public_permissions() -> None:
    user = UserFactory()

    assert {p for p in Permission if has_permission(user, p, audit=False)} == PUBLIC_PERMISSIONS


@pytest.mark.parametrize("anonymous", [AnonymousUser(), None])
def test_anonymous_gets_only_public_permissions(anonymous: object) -> None:
    granted = {p for p in Permission if has_permission(anonymous, p, audit=False)}

    assert granted == PUBLIC_PERMISSIONS
    assert user_roles(anonymous) == frozenset()


def test_an_inactive_user_keeps_no_role_permission() -> None:
    user = UserFactory(roles=[Role.ADMINISTRATOR], is_active=False)

    assert not has_permission(user, Permission.ACCOUNTS_MANAGE)
    assert has_permission(user, Permission.CATALOG_VIEW)
    assert user_roles(user) == frozenset()


def test_superuser_flag_grants_nothing_by_itself() -> None:
    user = UserFactory(is_superuser=True, is_staff=True)

    assert not has_permission(user, Permission.ADMIN_SITE)


def test_unknown_permission_is_denied() -> None:
    user = UserFactory(roles=list(Role))

    assert not has_permission(user, "no.such_permission")  # type: ignore[arg-type]


def test_denial_is_audited_with_permission_target_and_reason(registries: None) -> None:
    user = UserFactory(roles=[Role.RESEARCHER])
    project = Project(pk=42)

    assert not has_permission(user, Permission.WORKSPACE_QUERY, project)

    [event] = events("permission.denied")
    assert event.outcome == "denied"
    assert event.actor_id == str(user.pk)
    assert (event.target_type, event.target_id) == ("Project", "42")
    assert event.details == {
        "permission": "workspace.query",
        "reason": "no role grants this permission",
    }


def test_denial_of_a_model_object_names_the_model() -> None:
    user = UserFactory()
    other = UserFactory()

    assert not has_permission(user, Permission.ACCOUNTS_MANAGE, other)

    [event] = events("permission.denied")
    assert (event.target_type, event.target_id) == ("accounts.user", str(other.pk))


def test_anonymous_denial_is_audited_without_actor() -> None:
    assert not has_permission(AnonymousUser(), Permission.AUDIT_VIEW)

    [event] = events("permission.denied")
    assert event.actor_id == ""


def test_display_only_checks_are_not_audited() -> None:
    user = UserFactory()

    assert not has_permission(user, Permission.AUDIT_VIEW, audit=False)

    assert events("permission.denied") == []


def test_allowed_decisions_do_not_write_a_denial() -> None:
    auditor = UserFactory(roles=[Role.AUDITOR])
    with mock.patch("hdh.audit.services.record") as record:
        assert has_permission(auditor, Permission.AUDIT_VIEW)
    record.assert_not_called()


def test_project_role_grants_only_on_its_own_object(registries: None) -> None:
    declared.register_project_role_resolver(Project, _member_roles)
    user = UserFactory()
    mine = Project(pk=1, members={user.pk: ProjectRole.MEMBER})
    theirs = Project(pk=2)

    for perm in PROJECT_ROLES[ProjectRole.MEMBER].permissions:
        assert has_permission(user, perm, mine)
        assert not has_permission(user, perm, theirs, audit=False)
        assert not has_permission(user, perm, audit=False)
    assert not has_permission(user, Permission.APPLICATION_EDIT, mine, audit=False)


def test_project_roles_are_never_given_to_anonymous(registries: None) -> None:
    declared.register_project_role_resolver(Project, lambda user, obj: frozenset(ProjectRole))

    assert not has_permission(AnonymousUser(), Permission.WORKSPACE_ACCESS, Project(pk=1))


def test_an_object_rule_vetoes_what_a_role_grants(registries: None) -> None:
    declared.register_project_role_resolver(Project, _member_roles)
    declared.register_object_rule(
        Project, lambda user, perm, obj: "project frozen" if obj.frozen else None
    )
    user = UserFactory()
    project = Project(pk=7, members={user.pk: ProjectRole.CONTROLLER}, frozen=True)

    assert not has_permission(user, Permission.WORKSPACE_QUERY, project)

    [event] = events("permission.denied")
    assert event.details["reason"] == "project frozen"


def test_an_object_rule_applies_to_public_permissions_too(registries: None) -> None:
    declared.register_object_rule(Project, lambda user, perm, obj: "unpublished")

    assert not has_permission(AnonymousUser(), Permission.CATALOG_VIEW, Project(pk=1))


def test_require_permission_raises_not_allowed() -> None:
    user = UserFactory()

    with pytest.raises(NotAllowed):
        require_permission(user, Permission.ACCOUNTS_MANAGE)
    require_permission(user, Permission.CATALOG_VIEW)


def test_role_changes_take_effect_at_once() -> None:
    admin = UserFactory(roles=[Role.ADMINISTRATOR])
    user = UserFactory(roles=[Role.RESEARCHER])
    assert not has_permission(user, Permission.AUDIT_VIEW, audit=False)

    services.grant_role(by=admin, user=user, role=Role.AUDITOR)
    assert has_permission(user, Permission.AUDIT_VIEW)

    services.revoke_role(by=admin, user=user, role=Role.AUDITOR)
    assert not has_permission(user, Permission.AUDIT_VIEW, audit=False)


@permission_required(Permission.AUDIT_VIEW)
def _audit_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse("journal")


def test_decorator_lets_holders_through(rf: RequestFactory) -> None:
    request = rf.get("/journal/")
    request.user = UserFactory(roles=[Role.AUDITOR])

    assert _audit_page(request).content == b"journal"


def test_decorator_refuses_others_with_403(rf: RequestFactory) -> None:
    request = rf.get("/journal/")
    request.user = UserFactory(roles=[Role.RESEARCHER])

    with pytest.raises(PermissionDenied):
        _audit_page(request)
    assert len(events("permission.denied")) == 1


def test_decorator_sends_anonymous_to_login(rf: RequestFactory) -> None:
    request = rf.get("/journal/?page=2")
    request.user = AnonymousUser()

    response = _audit_page(request)

    assert response.status_code == 302
    assert response["Location"] == "/comptes/connexion/?next=/journal/%3Fpage%3D2"


def test_decorator_checks_the_object_it_is_given(rf: RequestFactory, registries: None) -> None:
    declared.register_project_role_resolver(Project, _member_roles)
    user = UserFactory()
    projects = {1: Project(pk=1, members={user.pk: ProjectRole.MEMBER}), 2: Project(pk=2)}

    @permission_required(Permission.WORKSPACE_QUERY, get_object=lambda r, pk: projects[pk])
    def console(request: HttpRequest, pk: int) -> HttpResponse:
        return HttpResponse("ok")

    request = rf.get("/")
    request.user = user
    assert console(request, pk=1).status_code == 200
    with pytest.raises(PermissionDenied):
        console(request, pk=2)


def test_user_roles_ignores_values_no_longer_declared() -> None:
    user = UserFactory(roles=[Role.RESEARCHER])
    with service_writes():
        RoleAssignment.objects.create(user=user, role="retired_role")
    authorization.forget_roles(user)

    assert user_roles(user) == frozenset({Role.RESEARCHER})
