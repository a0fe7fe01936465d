"""In a real browser (Chromium, offline): the Vega-Lite charts are drawn from the vendored
builds on the public statistics page and on a lake variable profile, next to their tables."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import live
from tests.e2e.conftest import (  # noqa: F401  (fixtures and hook shared with tests/e2e)
    browser,
    e2e_database_url,
    page,
    pytest_runtest_setup,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PREPARE = (
    "from hdh.catalog import demo as catalog; catalog.load(); "
    "from hdh.accounts.demo import create_demo_accounts; create_demo_accounts(); "
    "from hdh.access import demo as access; access.load(); "
    "from hdh.lake import demo as lake; lake.load()"
)


@pytest.fixture(scope="module")
def charts_server(
    tmp_path_factory: pytest.TempPathFactory,
    e2e_database_url: str,  # noqa: F811  (the shared fixture, requested by name)
) -> Iterator[str]:
    home = tmp_path_factory.mktemp("e2e-charts")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("HDH_", "DJANGO_", "DATABASE_URL"))
    }
    env.update(HDH_HOME=str(home), DATABASE_URL=e2e_database_url, HDH_DEMO_BENEFICIARIES="300")
    try:
        live.run_hdh(["migrate", "--noinput"], env)
        live.run_hdh(["shell", "-c", PREPARE], env)
        with live.serving(env, home / "server.log") as url:
            yield url
    except live.ServerError as exc:
        pytest.fail(str(exc), pytrace=False)


def _no_outside_requests(browser_page: Page, url: str) -> list[str]:
    outside: list[str] = []
    browser_page.on(
        "request",
        lambda request: None if request.url.startswith(url) else outside.append(request.url),
    )
    return outside


def test_the_statistics_chart_is_drawn_offline(
    page: Page,  # noqa: F811
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
    page: Page,  # noqa: F811
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
