"""Who reaches a workspace: the permit's members only, with a second factor; default deny."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client, RequestFactory
from django.urls import reverse

from hdh.accounts import session
from hdh.accounts.authorization import has_permission
from hdh.audit.models import AuditEvent
from hdh.core.errors import NotAllowed
from hdh.core.permissions import Permission, Role
from hdh.workspace import access, queries, services
from hdh.workspace.models import Workspace
from tests.factories.accounts import DEFAULT_PASSWORD, UserFactory
from tests.workspace.factories import Project, other_project_member, researcher

STAFF_ROLES = [
    Role.DATA_ENGINEER,
    Role.OUTPUT_CHECKER,
    Role.AUDITOR,
    Role.ADMINISTRATOR,
    Role.GUICHET_OFFICER,
    Role.REGULATOR,
    Role.COMMITTEE_MEMBER,
    Role.DATA_PRODUCER,
]


def _denials(workspace: Workspace) -> int:
    return AuditEvent.objects.filter(
        action="permission.denied",
        target_type=queries.TARGET_TYPE,
        target_id=str(workspace.pk),
    ).count()


def _every_entry_point_refuses(project: Project, workspace: Workspace, user) -> None:  # type: ignore[no-untyped-def]
    before = _denials(workspace)
    calls = [
        lambda: services.workspace_for(permit=project.permit, by=user),
        lambda: services.workspace_by_reference(reference=workspace.reference, by=user),
        lambda: services.run_console_query(workspace=workspace, sql="SELECT 1", by=user),
        lambda: services.submit_job(
            workspace=workspace, kind="sql", name="a.sql", script="SELECT 1", by=user
        ),
    ]
    for call in calls:
        with pytest.raises(NotAllowed):
            call()
    # Each refusal on the workspace is evidence in the log.
    assert _denials(workspace) == before + len(calls)
    for perm in (Permission.WORKSPACE_ACCESS, Permission.WORKSPACE_QUERY):
        assert not has_permission(user, perm, workspace, audit=False)


def test_members_and_only_members_enter(project: Project) -> None:
    workspace = project.workspace()
    for member in (project.lead, project.member):
        assert services.workspace_by_reference(reference=workspace.reference, by=member) == (
            workspace
        )
        for perm in (
            Permission.WORKSPACE_ACCESS,
            Permission.WORKSPACE_QUERY,
            Permission.WORKSPACE_RUN_JOB,
        ):
            assert has_permission(member, perm, workspace, audit=False)
    _every_entry_point_refuses(project, workspace, researcher())
    _every_entry_point_refuses(project, workspace, other_project_member(project))
    for role in STAFF_ROLES:
        _every_entry_point_refuses(project, workspace, UserFactory(roles=[role]))
    # The data engineer who prepared the data is not a member either.
    _every_entry_point_refuses(project, workspace, project.team.engineer)


def test_anonymous_and_inactive_people_are_refused(project: Project) -> None:
    workspace = project.workspace()
    _every_entry_point_refuses(project, workspace, AnonymousUser())
    gone = project.member
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    with pytest.raises(NotAllowed):
        services.workspace_by_reference(reference=workspace.reference, by=gone)


def test_a_non_member_cannot_open_the_workspace_first(project: Project) -> None:
    with pytest.raises(NotAllowed):
        services.workspace_for(permit=project.permit, by=researcher())
    assert not Workspace.objects.exists()
    assert AuditEvent.objects.filter(action="permission.denied").exists()


HOSTILE_REFERENCES = [
    "",
    "ET-",
    "ET-AUT-NOPE",
    "../../etc/passwd",
    "ET-\x00",
    "ET-" + "A" * 5000,
    "ÉT-AUT-ÉÉÉ",
    "ET-AUT-%00",
    None,
    42,
]


def test_hostile_references_are_refused_like_strangers(project: Project) -> None:
    for reference in HOSTILE_REFERENCES:
        with pytest.raises(NotAllowed):
            services.workspace_by_reference(reference=reference, by=project.lead)  # type: ignore[arg-type]
    assert not Workspace.objects.exists()


def test_an_unknown_reference_and_a_foreign_one_look_the_same(project: Project) -> None:
    workspace = project.workspace()
    stranger = researcher()
    errors = []
    for reference in (workspace.reference, "ET-AUT-ZZZZZZZZ"):
        with pytest.raises(NotAllowed) as caught:
            services.workspace_by_reference(reference=reference, by=stranger)
        errors.append(str(caught.value))
    assert errors[0] == errors[1]


def test_a_member_opens_the_workspace_by_its_reference_on_first_visit(project: Project) -> None:
    reference = queries.reference_for(project.permit)
    assert len(reference) <= queries.REFERENCE_LENGTH
    workspace = services.workspace_by_reference(reference=reference, by=project.member)
    assert workspace.reference == reference
    assert Workspace.objects.count() == 1


def test_my_workspaces_lists_membership_only(project: Project) -> None:
    assert services.workspaces_of(researcher()) == []
    assert services.workspaces_of(AnonymousUser()) == []
    rows = services.workspaces_of(project.member)
    assert [(row.reference, row.workspace, row.state) for row in rows] == [
        (queries.reference_for(project.permit), None, "open")
    ]
    workspace = project.workspace()
    rows = services.workspaces_of(project.lead)
    assert [(row.workspace, row.state) for row in rows] == [(workspace, "open")]
    assert rows[0].title == project.application.title


# --- second factor ---------------------------------------------------------------------
def _signed_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    response = client.post(
        reverse("accounts:login"), {"username": user.username, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    return client


def test_a_researcher_member_without_the_second_factor_is_sent_to_it(project: Project) -> None:
    workspace = project.workspace()
    client = _signed_in(project.lead)
    second_factor = (reverse("accounts:mfa_verify"), reverse("accounts:mfa_enrol"))
    reference = workspace.reference
    for path in ("/espaces/", f"/espaces/{reference}/", f"/espaces/{reference}/console/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].split("?")[0] in second_factor


def test_a_member_with_no_platform_role_must_pass_the_second_factor_too(project: Project) -> None:
    factory = RequestFactory()
    request = factory.get("/espaces/")
    request.user = project.member  # a project member with no platform role
    request.session = SessionStore()
    session.start(request.session)
    redirect = access.second_factor_redirect(request)
    assert redirect is not None
    assert redirect["Location"].split("?")[0] == reverse("accounts:mfa_enrol")
    assert not access.second_factor_passed(request)
    session.mark_second_factor_passed(request.session)
    assert access.second_factor_redirect(request) is None
    assert access.second_factor_passed(request)
    request.user = AnonymousUser()
    assert access.second_factor_redirect(request) is None  # left to the login redirect
