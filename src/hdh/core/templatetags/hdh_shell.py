"""Template tags of the web shell: the service's identity and its menus."""

from __future__ import annotations

from django import template

from hdh.core import navigation

register = template.Library()


def _current_path(context: template.Context) -> str:
    request = context.get("request")
    return getattr(request, "path", "") or ""


@register.simple_tag
def service_name() -> str:
    return str(navigation.SERVICE_NAME)


@register.simple_tag
def service_tagline() -> str:
    return str(navigation.SERVICE_TAGLINE)


@register.simple_tag
def operator_name() -> str:
    return str(navigation.OPERATOR_NAME)


@register.simple_tag(takes_context=True)
def main_navigation(context: template.Context) -> list[navigation.NavLink]:
    """``{% main_navigation as links %}``: the main menu resolved for this request."""
    return navigation.resolve_all(navigation.MAIN_NAVIGATION, _current_path(context))


@register.simple_tag(takes_context=True)
def footer_links(context: template.Context) -> list[navigation.NavLink]:
    return navigation.resolve_all(navigation.FOOTER_LINKS, _current_path(context))


@register.simple_tag(takes_context=True)
def area(context: template.Context, anchor: str) -> navigation.NavLink:
    """``{% area "catalogue" as catalogue %}``: the main-menu entry described by a home section."""
    for link in navigation.resolve_all(navigation.MAIN_NAVIGATION, _current_path(context)):
        if link.anchor == anchor:
            return link
    raise template.TemplateSyntaxError(f"no main-navigation entry has the anchor {anchor!r}")
