"""Who may see and use a workspace: the members of its permit, while it is open.

Registered with ``hdh.core.permissions`` at start-up.
"""

from __future__ import annotations

from typing import Any

from hdh.core import permissions as declared
from hdh.core.permissions import Permission, ProjectRole
from hdh.workspace.models import Job, Output, Workspace, WorkspaceState

# What needs an open workspace (a read-only one still shows its outputs).
_WRITING = frozenset({Permission.WORKSPACE_QUERY, Permission.WORKSPACE_RUN_JOB})


def _workspace_of(obj: Any) -> Workspace | None:
    if isinstance(obj, Workspace):
        return obj
    if isinstance(obj, Job | Output):
        return obj.workspace
    return None


def project_roles(user: Any, obj: Any) -> frozenset[ProjectRole] | None:
    workspace = _workspace_of(obj)
    if workspace is None or getattr(user, "pk", None) is None:
        return None
    return frozenset(
        ProjectRole(member["role"])
        for member in workspace.permit.members
        if member.get("user_id") == user.pk
    )


def state_rule(user: Any, perm: Permission, obj: Any) -> str | None:
    workspace = _workspace_of(obj)
    if workspace is None:
        return None
    state = workspace.effective_state()
    if state == WorkspaceState.ARCHIVED:
        return "the workspace is archived"
    if perm in _WRITING and state != WorkspaceState.OPEN:
        return "the workspace is read-only: the permit has ended"
    return None


def register() -> None:
    for model in (Workspace, Job, Output):
        declared.register_project_role_resolver(model, project_roles)
        declared.register_object_rule(model, state_rule)
