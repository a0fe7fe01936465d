"""People on applications: project roles from the team, and who may not judge a file.

Registered with ``hdh.core.permissions`` at start-up, the same way any app would.
"""

from __future__ import annotations

from typing import Any

from hdh.access.models import Application, Message, Permit, Project, Review, TeamMember
from hdh.access.states import State
from hdh.core import permissions as declared
from hdh.core.permissions import Permission, ProjectRole

# Judging a file: nobody does it on a file they are part of.
JUDGING = frozenset(
    {
        Permission.APPLICATION_ADMISSIBILITY,
        Permission.APPLICATION_REVIEW,
        Permission.APPLICATION_DECIDE,
        Permission.APPLICATION_CONTRACT,
    }
)


def _application_of(obj: Any) -> Application | None:
    if isinstance(obj, Application):
        return obj
    if isinstance(obj, Review | Message):
        return obj.application
    return None


def project_roles(user: Any, obj: Any) -> frozenset[ProjectRole] | None:
    if getattr(user, "pk", None) is None:
        return None
    if isinstance(obj, Permit):
        return frozenset(
            ProjectRole(member["role"])
            for member in obj.members
            if member.get("user_id") == user.pk and obj.closed_at is None
        )
    if isinstance(obj, Project):
        rows = TeamMember.objects.filter(application__project=obj, user_id=user.pk)
    else:
        application = _application_of(obj)
        if application is None:
            return None
        rows = TeamMember.objects.filter(application_id=application.pk, user_id=user.pk)
    return frozenset(ProjectRole(role) for role in rows.values_list("role", flat=True))


def is_part_of(user: Any, application: Application) -> bool:
    """Team member of any application of the project, or its author."""
    if getattr(user, "pk", None) is None:
        return False
    if application.created_by_id == user.pk:
        return True
    return TeamMember.objects.filter(
        application__project_id=application.project_id, user_id=user.pk
    ).exists()


def no_judging_own_file(user: Any, perm: Permission, obj: Any) -> str | None:
    application = _application_of(obj)
    if application is None:
        return None
    if perm in JUDGING and is_part_of(user, application):
        return "nobody reviews or decides on an application they are part of"
    if (
        perm == Permission.APPLICATION_REVIEW
        and Review.objects.filter(
            application_id=application.pk, reviewer_id=user.pk, has_conflict=True
        ).exists()
    ):
        return "the reviewer declared a conflict of interest on this application"
    if (
        perm == Permission.APPLICATION_VIEW
        and application.state == State.DRAFT
        and not is_part_of(user, application)
    ):
        return "a draft is visible to its team only"
    return None


# Data engineers see a file once it is theirs to prepare.
PREPARATION_STATES = frozenset(
    {State.CONTRACT_SIGNED, State.DATA_PREPARATION, State.WORKSPACE_OPEN, State.CLOSED}
)


def may_view(user: Any, application: Application) -> bool:
    """May ``user`` open this file? A refusal is audited through ``has_permission``."""
    from hdh.accounts.authorization import has_permission

    if application.state in PREPARATION_STATES and has_permission(
        user, Permission.PREPARATION_VIEW, application, audit=False
    ):
        return True
    return has_permission(user, Permission.APPLICATION_VIEW, application)


def register() -> None:
    for model in (Application, Project, Permit, Review, Message):
        declared.register_project_role_resolver(model, project_roles)
    for model in (Application, Review, Message):
        declared.register_object_rule(model, no_judging_own_file)
