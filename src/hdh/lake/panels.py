"""The lake's contributions to the catalog's variable pages: the data profile, and
the synthetic sample of the variable's table."""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from hdh.accounts.authorization import has_permission
from hdh.catalog.hooks import register_table_panel, register_variable_panel
from hdh.catalog.models import Base, Table, Variable
from hdh.core.permissions import Permission
from hdh.lake import queries


def profile_panel(
    request: HttpRequest, base: Base, table: Table, variable: Variable
) -> SafeString | None:
    stats = queries.latest_profile(base_slug=base.slug, table=table.name, variable=variable.name)
    if not stats:
        # Said here rather than left to the catalog's fallback, which other panels
        # (the synthetic sample) would hide.
        return mark_safe(render_to_string("lake/includes/no_profile.html", request=request))  # noqa: S308  # nosec B308 B703
    html = render_to_string(
        "lake/includes/variable_panel.html",
        {"stats": stats, "bars": queries.bars(stats)},
        request=request,
    )
    return mark_safe(html)  # noqa: S308 - rendered by the template engine, which escapes  # nosec B308 B703


def sample_panel(
    request: HttpRequest, base: Base, table: Table, variable: Variable
) -> SafeString | None:
    """Links to a synthetic sample of the table, for those who may download one."""
    # Only decides what to display: the download view checks (and audits) again.
    if not has_permission(request.user, Permission.SYNTHETIC_DOWNLOAD, audit=False):
        return None
    html = render_to_string(
        "lake/includes/synthetic_sample.html", {"base": base, "table": table}, request=request
    )
    return mark_safe(html)  # noqa: S308 - rendered by the template engine, which escapes  # nosec B308 B703


def table_sample_panel(request: HttpRequest, base: Base, table: Table) -> SafeString | None:
    """The same synthetic-sample links on the table page."""
    if not has_permission(request.user, Permission.SYNTHETIC_DOWNLOAD, audit=False):
        return None
    html = render_to_string(
        "lake/includes/synthetic_sample.html", {"base": base, "table": table}, request=request
    )
    return mark_safe(html)  # noqa: S308 - rendered by the template engine, which escapes  # nosec B308 B703


def register() -> None:
    register_variable_panel(profile_panel)
    register_variable_panel(sample_panel)
    register_table_panel(table_sample_panel)
