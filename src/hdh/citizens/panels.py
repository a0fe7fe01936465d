"""The catalog's base page links to the projects allowed to use that base."""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from hdh.catalog.hooks import register_base_panel
from hdh.catalog.models import Base
from hdh.citizens import figures


def projects_panel(request: HttpRequest, base: Base) -> SafeString:
    html = render_to_string(
        "citizens/includes/base_projects.html",
        {"base": base, "count": len(figures.projects_using(base))},
        request=request,
    )
    return mark_safe(html)  # noqa: S308 - rendered by the template engine, which escapes  # nosec B308 B703


def register() -> None:
    register_base_panel(projects_panel)
