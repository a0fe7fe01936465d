"""Public figures: the platform's year in numbers, and which projects use each base.

Built on the access directory (:mod:`hdh.access.directory`): only what the
directory already publishes is counted here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from hdh.access import directory
from hdh.access.models import Application, Permit, StageEntry
from hdh.access.states import State
from hdh.accounts.models import Organisation
from hdh.catalog.models import Base
from hdh.core import clock


@dataclass(frozen=True)
class Year:
    year: int
    filed: int
    authorised: int
    refused: int


def years() -> list[Year]:
    """Projects filed, authorised and refused per calendar year, newest first."""
    filed = Counter(
        at.year
        for at in directory.published().values_list("submitted_at", flat=True)
        if at is not None
    )
    decided: dict[str, Counter[int]] = {State.AUTHORISED: Counter(), State.REFUSED: Counter()}
    for state, at in StageEntry.objects.filter(
        to_state__in=(State.AUTHORISED, State.REFUSED)
    ).values_list("to_state", "at"):
        decided[state][at.year] += 1
    every = set(filed) | set(decided[State.AUTHORISED]) | set(decided[State.REFUSED])
    return [
        Year(y, filed[y], decided[State.AUTHORISED][y], decided[State.REFUSED][y])
        for y in sorted(every, reverse=True)
    ]


def totals() -> dict[str, int]:
    return {
        "projects": directory.published().count(),
        "bases": Base.objects.count(),
        "organisations": Organisation.objects.count(),
        "active_permits": len(active_permits()),
    }


def chart_spec(rows: list[Year], labels: dict[str, str]) -> dict[str, Any]:
    values = [
        {"year": str(row.year), "measure": labels[name], "count": getattr(row, name)}
        for row in rows
        for name in ("filed", "authorised", "refused")
    ]
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "width": "container",
        "data": {"values": values},
        "mark": "bar",
        "encoding": {
            "x": {"field": "year", "type": "ordinal", "title": None},
            "xOffset": {"field": "measure"},
            "y": {"field": "count", "type": "quantitative", "title": None},
            "color": {"field": "measure", "type": "nominal", "title": None},
        },
    }


def active_permits() -> list[Permit]:
    today = clock.today()
    # A permit exists only once a project is authorised; it lapses when closed or expired.
    return list(
        Permit.objects.filter(closed_at__isnull=True, end_date__gte=today)
        .select_related("application__project")
        .order_by("reference")
    )


def projects_using(base: Base) -> list[Application]:
    """Authorised applications whose active permit's perimeter includes ``base``."""
    return [
        permit.application
        for permit in active_permits()
        if any(item.get("base") == base.slug for item in permit.perimeter)
    ]


def bases() -> QuerySet[Base]:
    return Base.objects.order_by("title")


def projects_per_base() -> list[tuple[Base, int]]:
    counts: Counter[str] = Counter()
    for permit in active_permits():
        for slug in {item.get("base") for item in permit.perimeter}:
            counts[str(slug)] += 1
    return [(base, counts[base.slug]) for base in bases()]
