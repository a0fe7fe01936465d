"""Reading preparation's state for pages (no writes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hdh.access.models import Permit
from hdh.accounts.authorization import has_permission
from hdh.core.permissions import Permission
from hdh.preparation.models import ExtractionPlan, PreparationRun, ProjectDataset
from hdh.preparation.policies import PREPARABLE_STATES


@dataclass
class PermitRow:
    permit: Permit
    plan: ExtractionPlan | None
    run: PreparationRun | None
    dataset: ProjectDataset | None


def permits_for(user: Any) -> list[PermitRow]:
    """Permits of signed contracts the user may prepare, newest first."""
    permits = (
        Permit.objects.filter(application__state__in=PREPARABLE_STATES, closed_at__isnull=True)
        .select_related("application", "project")
        .order_by("-issued_at")
    )
    rows = []
    for permit in permits:
        if not has_permission(user, Permission.PREPARATION_VIEW, permit, audit=False):
            continue
        rows.append(
            PermitRow(
                permit=permit,
                plan=ExtractionPlan.objects.filter(permit=permit).order_by("-number").first(),
                run=PreparationRun.objects.filter(plan__permit=permit).first(),
                dataset=ProjectDataset.objects.filter(
                    permit=permit, superseded_at__isnull=True
                ).first(),
            )
        )
    return rows
