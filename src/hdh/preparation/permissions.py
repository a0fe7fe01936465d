"""Object rules of preparation, registered like any app's.

Nobody prepares the data of a project they are a member of: the data engineer
must not be able to see the dataset through two doors.
"""

from __future__ import annotations

from typing import Any

from hdh.access.models import Permit
from hdh.core import permissions as declared
from hdh.core.permissions import Permission
from hdh.preparation.models import ExtractionPlan, LinkageRun, PreparationRun, ProjectDataset

PREPARATION = frozenset({Permission.PREPARATION_VIEW, Permission.PREPARATION_RUN})


def permit_of(obj: Any) -> Permit | None:
    if isinstance(obj, Permit):
        return obj
    if isinstance(obj, ExtractionPlan):
        return obj.permit
    if isinstance(obj, PreparationRun):
        return obj.plan.permit
    if isinstance(obj, ProjectDataset | LinkageRun):
        return obj.permit
    return None


def not_on_own_project(user: Any, perm: Permission, obj: Any) -> str | None:
    if perm not in PREPARATION:
        return None
    permit = permit_of(obj)
    if permit is not None and getattr(user, "pk", None) in permit.member_ids():
        return "member of the project"
    return None


def register() -> None:
    for model in (Permit, ExtractionPlan, PreparationRun, ProjectDataset, LinkageRun):
        declared.register_object_rule(model, not_on_own_project)
