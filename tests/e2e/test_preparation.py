"""demo-data-engineer, in a real browser against a real server and worker, prepares
the demo application's dataset from the pages and reads its manifest."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e import live

pytestmark = pytest.mark.e2e
ENGINEER = "demo-data-engineer"


@pytest.fixture
def demo_server(shared_demo: live.DemoPlatform) -> tuple[live.LiveServer, live.Account]:
    assert "identité synthétique : NIR" in shared_demo.output
    engineer = live.demo_account(ENGINEER)
    return live.LiveServer(url=shared_demo.url, researcher=engineer), engineer


def test_the_data_engineer_prepares_the_demo_dataset(
    demo_server: tuple[live.LiveServer, live.Account], browser: Browser
) -> None:
    server, engineer = demo_server
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        live.sign_in(page, server, engineer)
        page.goto(f"{server.url}/preparation/")
        page.get_by_role("row", name="préparation des données").get_by_role("link").first.click()
        page.locator("#compile-plan").click()
        expect(page.locator("#plan-form")).to_be_visible()
        expect(page.get_by_text("T_MCOaaB").first).to_be_visible()
        page.locator("#approve-plan").click()
        page.locator("#start-run").click()
        expect(page.locator("#run-progress")).to_be_visible()
        page.locator("#dataset-link").click(timeout=300_000)
        expect(page.locator("#manifest-verified")).to_be_visible()
        expect(page.locator("#manifest")).to_contain_text("duckdb")
        expect(page.get_by_role("cell", name="ER_PRS_F")).to_be_visible()
    finally:
        context.close()
