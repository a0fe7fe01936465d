"""A researcher signs in with a password and a TOTP code, lands on the French home
page, and switches the interface to English with the DSFR language selector."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.live import DemoPlatform, LiveServer, demo_account, sign_in

# The sign-in pages and the language selector: the password and TOTP checks behind
# them run on both databases in tests/accounts and tests/test_demo.py.
pytestmark = [pytest.mark.e2e, pytest.mark.database_independent]


def test_sign_in_with_totp_then_switch_to_english(page: Page, shared_demo: DemoPlatform) -> None:
    server = LiveServer(url=shared_demo.url, researcher=demo_account("demo-researcher"))
    sign_in(page, server, server.researcher)

    html = page.locator("html")
    expect(html).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Les données de santé au service de l'intérêt général"
    )
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    expect(page.get_by_role("navigation", name="Menu principal")).to_contain_text("Mes droits")

    page.get_by_role("button", name=re.compile(r"^FR\b")).click()
    page.get_by_role("button", name="EN - English").click()

    expect(html).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Health data in the service of the public interest"
    )
    expect(page.get_by_role("navigation", name="Main menu")).to_contain_text("My rights")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
