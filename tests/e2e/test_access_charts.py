"""In a real browser (Chromium, offline): the Vega-Lite charts are drawn from the vendored
builds on the public statistics page and on a lake variable profile, next to their tables."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import live

# Only reads the demo's pages: it runs on the platform the browser tests share.
pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def charts_server(shared_demo: live.DemoPlatform) -> str:
    return shared_demo.url


def _no_outside_requests(browser_page: Page, url: str) -> list[str]:
    outside: list[str] = []
    browser_page.on(
        "request",
        lambda request: None if request.url.startswith(url) else outside.append(request.url),
    )
    return outside


def test_the_statistics_chart_is_drawn_offline(
    page: Page,
    charts_server: str,
) -> None:
    outside = _no_outside_requests(page, charts_server)
    page.goto(f"{charts_server}/projets/statistiques/")
    chart = page.get_by_role("img", name="Graphique : médiane et 90e centile des jours par étape")
    expect(chart).to_be_visible()
    expect(chart.locator("svg").first).to_be_visible()
    # Bars are drawn as marks, and the accessible table stays next to the chart.
    expect(chart.locator("svg .mark-rect path").first).to_be_attached()
    expect(page.get_by_role("table")).to_contain_text("Recevabilité")
    assert outside == []


def test_the_lake_profile_chart_is_drawn(
    page: Page,
    charts_server: str,
) -> None:
    outside = _no_outside_requests(page, charts_server)
    page.goto(f"{charts_server}/lac/profils/snds/IR_BEN_R/BEN_SEX_COD/")
    chart = page.get_by_role("img", name="Graphique : répartition des valeurs")
    expect(chart.locator("svg").first).to_be_visible()
    expect(chart.locator("svg .mark-rect path").first).to_be_attached()
    # The text alternative is still there.
    expect(page.get_by_role("img", name="Distribution des valeurs")).to_be_visible()
    assert outside == []
