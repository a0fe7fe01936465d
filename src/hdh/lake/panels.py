"""The lake's contribution to the catalog's variable pages: the data profile."""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from hdh.catalog.hooks import register_variable_panel
from hdh.catalog.models import Base, Table, Variable
from hdh.lake import queries


def profile_panel(
    request: HttpRequest, base: Base, table: Table, variable: Variable
) -> SafeString | None:
    stats = queries.latest_profile(base_slug=base.slug, table=table.name, variable=variable.name)
    if not stats:
        return None
    html = render_to_string(
        "lake/includes/variable_panel.html",
        {"stats": stats, "bars": queries.bars(stats)},
        request=request,
    )
    return mark_safe(html)  # noqa: S308 - rendered by the template engine, which escapes


def register() -> None:
    register_variable_panel(profile_panel)
