from __future__ import annotations

import pytest
from django.urls import path

from hdh.core import navigation
from hdh.core.navigation import NavEntry


def _page(request):  # type: ignore[no-untyped-def]
    raise AssertionError("never called")


# A URLconf in which only one area of the platform is installed.
urlpatterns = [
    path("", _page, name="home"),
    path("catalogue/", _page, name="catalogue_index"),
    path("catalogue/bases/<slug:slug>/", _page, name="catalogue_base"),
]

CATALOGUE = NavEntry("Catalogue", "catalogue_index", "catalogue")
MISSING = NavEntry("Mes droits", "citizens:index", "mes-droits")


@pytest.fixture(autouse=True)
def _one_area_installed(settings) -> None:  # type: ignore[no-untyped-def]
    settings.ROOT_URLCONF = __name__


def test_entry_links_to_its_area_when_the_url_resolves() -> None:
    link = navigation.resolve(CATALOGUE)

    assert link.href == "/catalogue/"
    assert link.available


def test_entry_falls_back_to_its_home_section_until_the_area_exists() -> None:
    link = navigation.resolve(MISSING)

    assert link.href == "/#mes-droits"
    assert not link.available
    assert not link.current


@pytest.mark.parametrize(
    ("current_path", "current"),
    [
        ("/catalogue/", True),
        ("/catalogue/bases/oscour/", True),
        ("/catalogue-bis/", False),
        ("/", False),
        ("", False),
    ],
)
def test_entry_is_current_on_its_pages_only(current_path: str, current: bool) -> None:
    assert navigation.resolve(CATALOGUE, current_path).current is current


def test_main_navigation_has_the_four_areas_in_order() -> None:
    labels = [str(entry.label) for entry in navigation.MAIN_NAVIGATION]

    assert labels == ["Catalogue", "Projets", "Espace projet", "Mes droits"]


def test_every_entry_has_its_own_anchor() -> None:
    anchors = [entry.anchor for entry in navigation.MAIN_NAVIGATION]

    assert len(set(anchors)) == len(anchors)
