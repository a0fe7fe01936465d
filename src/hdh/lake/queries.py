"""Reading the lake's metadata (no writes): what pages and other apps show."""

from __future__ import annotations

from typing import Any

from hdh.lake.models import DatasetVersion, Deposit, VariableProfile


def latest_profile(*, base_slug: str, table: str, variable: str) -> dict[str, Any] | None:
    """The publishable profile of a variable in its table's current version, if any."""
    version = (
        DatasetVersion.objects.filter(base__slug=base_slug, table_name=table)
        .order_by("-number")
        .first()
    )
    if version is None:
        return None
    profile = VariableProfile.objects.filter(version=version, variable_name=variable).first()
    if profile is None:
        return None
    return {"version": version.number, "created_at": version.created_at, **profile.stats}


def deposits_by(user: Any, limit: int = 50) -> list[Deposit]:
    return list(Deposit.objects.filter(created_by=user).select_related("base", "version")[:limit])


def bars(stats: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of a bar chart (label, count, width in %) from a profile's distribution."""
    if stats.get("top"):
        cells = [(item["value"], item["count"]) for item in stats["top"]]
    elif stats.get("histogram"):
        cells = [
            (f"{cell['low']:g} – {cell['high']:g}", cell["count"]) for cell in stats["histogram"]
        ]
    else:
        return []
    largest = max((count or 0 for _, count in cells), default=0) or 1
    return [
        {"label": label, "count": count, "width": round(100 * (count or 0) / largest)}
        for label, count in cells
    ]
