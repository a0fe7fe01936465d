"""demo-researcher, in a real browser against a real server and worker, works in the
demo project's workspace: console queries, a Python job writing a table and a chart,
both outputs previewed in the page. demo-researcher-2, not a member, sees nothing."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from tests.e2e import live

pytestmark = pytest.mark.e2e
MEMBER = "demo-researcher"
OUTSIDER = "demo-researcher-2"

# Reads the first table of the project's dataset, writes an aggregate table and a chart.
JOB = """\
import os
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

data = Path(os.environ["HDH_DATA"])
outputs = Path(os.environ["HDH_OUTPUTS"])
table = sorted(data.glob("*.parquet"))[0]
frame = pd.read_parquet(table)
summary = pd.DataFrame(
    {"colonne": [str(c) for c in frame.columns], "valeurs_renseignees": frame.notna().sum().values}
)
summary.to_csv(outputs / "tableau.csv", index=False)
figure, axes = plt.subplots(figsize=(6, 3))
axes.bar(summary["colonne"], summary["valeurs_renseignees"])
axes.tick_params(axis="x", labelrotation=90)
figure.tight_layout()
figure.savefig(outputs / "graphique.png")
print("table", table.stem, "lignes", len(frame))
"""


@pytest.fixture
def demo_server(shared_demo: live.DemoPlatform) -> live.LiveServer:
    return live.LiveServer(url=shared_demo.url, researcher=live.demo_account(MEMBER))


def _context(browser: Browser) -> BrowserContext:
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    return context


def test_a_member_queries_runs_a_job_and_sees_its_outputs(
    demo_server: live.LiveServer, browser: Browser
) -> None:
    server = demo_server
    context = _context(browser)
    page = context.new_page()
    try:
        live.sign_in(page, server, server.researcher)
        page.goto(f"{server.url}/espaces/")
        page.locator("#workspaces a.fr-link").first.click()
        expect(page.locator("#airlock-notice")).to_be_visible()
        expect(page.locator("#workspace-state")).to_have_text("ouvert")
        table = page.locator("#dataset-tables summary strong").first.inner_text().strip()
        dashboard = page.url

        page.locator("#console-link").click()
        page.locator("#id_sql").fill(f"SELECT COUNT(*) AS personnes FROM {table}")
        page.locator("#run-query").click()
        expect(page.locator("#console-table")).to_contain_text("personnes")
        expect(page.locator("#console-summary")).to_contain_text("1 ligne")
        page.locator("#id_sql").fill(f"SELECT * FROM {table} LIMIT 5")
        page.locator("#run-query").click()
        expect(page.locator("#console-summary")).to_contain_text("5 lignes")
        expect(page.locator("#console-table tbody tr")).to_have_count(5)
        # The console answered in place: still the console page, no download offered.
        assert page.url.endswith("/console/")
        expect(page.get_by_role("link", name=re.compile("télécharger", re.I))).to_have_count(0)

        page.locator("#jobs-link").click()
        page.locator("#new-job").click()
        page.locator("#id_kind").select_option("python")
        page.locator("#id_name").fill("resume.py")
        page.locator("#id_script").fill(JOB)
        page.locator("#submit-job").click()
        expect(page.locator("#job-status")).to_be_visible()
        # The status fragment is polled every 2 s; the page reloads once the job ends.
        expect(page.locator("#job-state")).to_have_text("succeeded", timeout=300_000)
        expect(page.locator("#job-log")).to_contain_text("lignes")
        outputs = page.locator("#outputs")
        expect(outputs).to_contain_text("tableau.csv")
        expect(outputs).to_contain_text("graphique.png")

        outputs.get_by_role("link", name="tableau.csv").click()
        expect(page.locator("#preview-table")).to_contain_text("valeurs_renseignees")
        page.go_back()
        page.locator("#outputs").get_by_role("link", name="graphique.png").click()
        image = page.locator("#preview-image")
        expect(image).to_be_visible()
        assert (image.get_attribute("src") or "").startswith("data:image/png;base64,")
        assert image.evaluate("img => img.naturalWidth") > 0

        page.goto(dashboard)
        expect(page.locator("#outputs")).to_contain_text("graphique.png")
    finally:
        context.close()

    outsider = live.demo_account(OUTSIDER)
    context = _context(browser)
    page = context.new_page()
    try:
        live.sign_in(page, server, outsider)
        page.goto(f"{server.url}/espaces/")
        expect(page.locator("#workspaces a.fr-link")).to_have_count(0)
        response = page.goto(dashboard)
        assert response is not None
        assert response.status == 404
        response = page.goto(dashboard + "console/")
        assert response is not None
        assert response.status == 404
    finally:
        context.close()
