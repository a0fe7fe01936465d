"""The public project directory (répertoire public) and the statistics of delays.

Every submitted project appears, refused and withdrawn ones included; drafts
never do. Only what the directory publishes leaves here: no member names, no
reviews, no messages.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from hdh.access import workflow
from hdh.access.models import Application, StageEntry
from hdh.access.states import Stage, State

PUBLIC_COLUMNS = (
    "reference",
    "kind",
    "title",
    "controller",
    "legal_route",
    "bases",
    "purpose",
    "state",
    "submitted_at",
    "decision",
    "decided_at",
    "stages",
    "publications",
)


def published() -> QuerySet[Application]:
    return (
        Application.objects.exclude(state=State.DRAFT)
        .exclude(submitted_at__isnull=True)
        .select_related("project")
        .prefetch_related("perimeter__base", "history", "project__publications")
        .order_by("-submitted_at", "-pk")
    )


def search(
    *, q: str = "", route: str = "", state: str = "", base: str = ""
) -> QuerySet[Application]:
    found = published()
    if q:
        words = q.split()[:8]
        for word in words:
            found = found.filter(
                Q(title__icontains=word)
                | Q(lay_summary__icontains=word)
                | Q(controller_name__icontains=word)
                | Q(project__reference__iexact=word)
            )
    if route:
        found = found.filter(legal_route=route)
    if state:
        found = found.filter(state=state)
    if base:
        found = found.filter(perimeter__base__slug=base).distinct()
    return found


def record(application: Application) -> dict[str, Any]:
    """One project as the open data publishes it."""
    bases = sorted({item.base.acronym or item.base.slug for item in application.perimeter.all()})
    stages = [
        {"state": entry.to_state, "at": entry.at.isoformat()} for entry in application.history.all()
    ]
    decided = next(
        (
            entry
            for entry in reversed(list(application.history.all()))
            if entry.to_state in (State.AUTHORISED, State.REFUSED)
        ),
        None,
    )
    return {
        "reference": application.project.reference,
        "kind": application.kind,
        "title": application.title,
        "controller": application.controller_name,
        "legal_route": application.legal_route,
        "bases": bases,
        "purpose": application.lay_summary,
        "state": application.state,
        "submitted_at": application.submitted_at.isoformat() if application.submitted_at else "",
        "decision": decided.to_state if decided else "",
        "decided_at": decided.at.isoformat() if decided else "",
        "stages": stages,
        "publications": [p.public() for p in application.project.publications.all()],
    }


def as_csv(applications: Iterable[Application]) -> str:
    output = io.StringIO()
    writer = csv.writer(output)
    writer.writerow(PUBLIC_COLUMNS)
    for application in applications:
        row = record(application)
        row["bases"] = " ".join(row["bases"])
        row["stages"] = " ".join(f"{s['state']}@{s['at']}" for s in row["stages"])
        row["publications"] = " | ".join(
            f"{p['date']} {p['title']} ({p['doi'] or p['url']})" for p in row["publications"]
        )
        writer.writerow([_safe_cell(str(row[c])) for c in PUBLIC_COLUMNS])
    return output.getvalue()


def _safe_cell(value: str) -> str:
    # Spreadsheets run cells that start with these as formulas (CSV injection).
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


# --- Statistics -------------------------------------------------------------------


@dataclass(frozen=True)
class StageFigures:
    stage: str
    label: str
    count: int
    median_days: float | None
    p90_days: float | None


def percentile(values: list[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks (the spreadsheet PERCENTILE)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    value = ordered[low] + (ordered[high] - ordered[low]) * (position - low)
    return round(value, 1)


def stage_durations() -> dict[str, list[float]]:
    """Days spent in each stage per application, clock stops excluded; and end to end."""
    per_application: dict[int, list[StageEntry]] = defaultdict(list)
    for entry in StageEntry.objects.order_by("application_id", "at", "id"):
        per_application[entry.application_id].append(entry)
    durations: dict[str, list[float]] = defaultdict(list)
    for entries in per_application.values():
        spent: dict[str, dt.timedelta] = defaultdict(dt.timedelta)
        finished: set[str] = set()
        for current, following in itertools.pairwise(entries):
            stage = workflow.STAGES.get(State(current.to_state))
            if stage is not None:
                spent[stage] += following.at - current.at
                if workflow.STAGES.get(State(following.to_state)) != stage and (
                    following.to_state != State.RETURNED
                ):
                    finished.add(stage)
        for key in finished:
            durations[key].append(spent[key].total_seconds() / 86400)
        submitted = next((e.at for e in entries if e.to_state == State.SUBMITTED), None)
        decided = next(
            (e.at for e in entries if e.to_state in (State.AUTHORISED, State.REFUSED)), None
        )
        if submitted and decided:
            durations["end_to_end"].append((decided - submitted).total_seconds() / 86400)
    return durations


def statistics() -> list[StageFigures]:
    durations = stage_durations()
    rows: list[tuple[str, Any]] = [(str(stage), stage.label) for stage in Stage]
    rows.append(("end_to_end", _("Du dépôt à la décision")))
    return [
        StageFigures(
            stage=key,
            label=str(label),
            count=len(durations.get(key, [])),
            median_days=percentile(durations.get(key, []), 0.5),
            p90_days=percentile(durations.get(key, []), 0.9),
        )
        for key, label in rows
    ]


def chart_spec(figures: list[StageFigures]) -> dict[str, Any]:
    """A Vega-Lite bar chart of median and 90th percentile per stage."""
    values = [
        {"stage": f.label, "measure": measure, "days": days}
        for f in figures
        for measure, days in ((_("médiane"), f.median_days), (_("90e centile"), f.p90_days))
        if days is not None
    ]
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "width": "container",
        "data": {"values": values},
        "mark": "bar",
        "encoding": {
            "y": {"field": "stage", "type": "nominal", "title": None, "sort": None},
            "x": {"field": "days", "type": "quantitative", "title": _("jours")},
            "yOffset": {"field": "measure"},
            "color": {"field": "measure", "type": "nominal", "title": None},
        },
    }
