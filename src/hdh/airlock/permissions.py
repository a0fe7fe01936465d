"""People on release requests: project roles come from the workspace's permit;
nobody checks a release of a project they are part of.

Registered with ``hdh.core.permissions`` at start-up, the same way any app would.
"""

from __future__ import annotations

from typing import Any

from hdh.access import permissions as access_permissions
from hdh.airlock.models import Comment, FileGroup, ReleasedFile, ReleaseRequest, RequestFile
from hdh.core import permissions as declared
from hdh.core.permissions import Permission, ProjectRole
from hdh.workspace.models import WorkspaceState

_MODELS = (ReleaseRequest, FileGroup, RequestFile, ReleasedFile, Comment)


def request_of(obj: Any) -> ReleaseRequest | None:
    if isinstance(obj, ReleaseRequest):
        return obj
    if isinstance(obj, FileGroup | RequestFile | Comment):
        return obj.request
    if isinstance(obj, ReleasedFile):
        return obj.file.request
    return None


def project_roles(user: Any, obj: Any) -> frozenset[ProjectRole] | None:
    request = request_of(obj)
    if request is None or getattr(user, "pk", None) is None:
        return None
    return frozenset(
        ProjectRole(member["role"])
        for member in request.workspace.permit.members
        if member.get("user_id") == user.pk
    )


def is_part_of(user: Any, request: ReleaseRequest) -> bool:
    """The requester, a member of the workspace, or on any application of its project."""
    if getattr(user, "pk", None) is None:
        return False
    if request.requested_by_id == user.pk:
        return True
    permit = request.workspace.permit
    if user.pk in permit.member_ids():
        return True
    return access_permissions.is_part_of(user, permit.application)


def rule(user: Any, perm: Permission, obj: Any) -> str | None:
    request = request_of(obj)
    if request is None:
        return None
    if perm == Permission.RELEASE_REVIEW:
        if is_part_of(user, request):
            return "nobody checks a release of a project they are part of"
        if request.submitted_at is None:
            return "a request is the checkers' only once submitted"
        return None
    if (
        perm == Permission.RELEASE_REQUEST
        and request.workspace.effective_state() == WorkspaceState.ARCHIVED
    ):
        return "the workspace is archived"
    return None


def register() -> None:
    for model in _MODELS:
        declared.register_project_role_resolver(model, project_roles)
        declared.register_object_rule(model, rule)
