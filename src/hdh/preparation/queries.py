"""Reading preparation's state for pages (no writes)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hdh.access.models import Permit
from hdh.accounts.authorization import has_permission
from hdh.core import lake
from hdh.core.permissions import Permission
from hdh.preparation.linkages import CHART_FILE
from hdh.preparation.models import ExtractionPlan, LinkageRun, PreparationRun, ProjectDataset
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


# The chart is Splink's own spec (comparison levels and their weights, no data values);
# a larger file is not what linkage writes and is not put in the page.
MAX_CHART_BYTES = 512 * 1024


def linkage_report(run: LinkageRun) -> dict[str, Any]:
    """What the linkage page shows: parameters, counts, expected quality, the chart."""
    summary = run.summary or {}
    chart = None
    if run.dataset is not None:
        path = lake.root() / run.dataset.path / CHART_FILE
        if path.is_file() and path.stat().st_size <= MAX_CHART_BYTES:
            chart = json.loads(path.read_text(encoding="utf-8"))
    return {
        "run": run,
        "permit": run.permit,
        "summary": summary,
        "expected": summary.get("expected") or [],
        "at_threshold": summary.get("expected_at_threshold"),
        "m_u": summary.get("m_u") or [],
        "parameters": summary.get("parameters") or {},
        "chart": chart,
    }
