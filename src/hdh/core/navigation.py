"""What the web shell shows on every page: the service's identity and its menus.

The main navigation is declared here once. Each area of the platform is named by
the URL its app will provide; until that app is installed, the entry links to
the section of the home page that describes the area, so the menu never points
at a page that does not exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

SERVICE_NAME = _("hdh — Plateforme des données de santé")
SERVICE_TAGLINE = _(
    "Un accès aisé, unifié, transparent et sécurisé aux données de santé "
    "pour les projets d'intérêt public"
)
# Who answers for the service; named in the footer and the legal pages.
OPERATOR_NAME = _("groupement d'intérêt public Plateforme des données de santé")


@dataclass(frozen=True)
class NavEntry:
    """One entry of a menu: its label, the URL it leads to, and where to go instead."""

    label: str | Promise
    url_name: str
    # Fragment of the home page (``/#<anchor>``) used while ``url_name`` does not resolve.
    anchor: str


@dataclass(frozen=True)
class NavLink:
    """A menu entry resolved for one request."""

    label: str | Promise
    href: str
    anchor: str
    # False while the area's app is not installed and the link leads to the home page.
    available: bool
    current: bool


MAIN_NAVIGATION: tuple[NavEntry, ...] = (
    NavEntry(_("Catalogue"), "catalog:index", "catalogue"),
    NavEntry(_("Projets"), "access:index", "projets"),
    NavEntry(_("Espace projet"), "workspace:index", "espace-projet"),
    NavEntry(_("Mes droits"), "citizens:index", "mes-droits"),
)

# Shown to output checkers (holders of ``release.review``) besides the main menu.
CHECKER_NAVIGATION: tuple[NavEntry, ...] = (
    NavEntry(_("Sas de sortie"), "airlock:queue", "sas-de-sortie"),
)

FOOTER_LINKS: tuple[NavEntry, ...] = (
    NavEntry(_("Accessibilité : non conforme"), "accessibility", "footer"),
    NavEntry(_("Mentions légales"), "legal_notice", "footer"),
    NavEntry(_("Données personnelles"), "personal_data", "footer"),
)


def _home_url() -> str:
    try:
        return reverse("home")
    except NoReverseMatch:
        return "/"


def resolve(entry: NavEntry, current_path: str = "") -> NavLink:
    """Where ``entry`` leads now, and whether ``current_path`` is inside it."""
    try:
        href = reverse(entry.url_name)
    except NoReverseMatch:
        return NavLink(
            label=entry.label,
            href=f"{_home_url()}#{entry.anchor}",
            anchor=entry.anchor,
            available=False,
            current=False,
        )
    section = href if href.endswith("/") else f"{href}/"
    current = bool(current_path) and (current_path == href or current_path.startswith(section))
    return NavLink(
        label=entry.label, href=href, anchor=entry.anchor, available=True, current=current
    )


def resolve_all(entries: Iterable[NavEntry], current_path: str = "") -> list[NavLink]:
    return [resolve(entry, current_path) for entry in entries]
