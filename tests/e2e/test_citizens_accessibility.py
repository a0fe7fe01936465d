"""The citizens' public pages pass axe-core's WCAG 2 A/AA rules in a real browser,
and the objection form works with the keyboard alone, focus visible."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e import live

# The pages and the keyboard path are the same whatever the database; the objection
# they file is checked on both databases by tests/citizens and tests/e2e/test_citizens.py.
pytestmark = [pytest.mark.e2e, pytest.mark.database_independent]
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PUBLIC_PAGES = [
    "/citoyens/",
    "/citoyens/protection-des-donnees/",
    "/citoyens/delegue-protection-donnees/",
    "/citoyens/chiffres/",
    "/citoyens/bases/",
    "/citoyens/opposition/",
    "/citoyens/opposition/suivi/",
    "/citoyens/droits/",
    "/citoyens/droits/suivi/",
    "/projets/repertoire/",
]
NIR, BIRTH, SEX = "187026331917980", "1987-02-28", "1"


@pytest.fixture
def portal(shared_demo: live.DemoPlatform) -> str:
    return shared_demo.url


def axe_violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_AA
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
            "help": v["help"],
        }
        for v in result["violations"]
    ]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_pass_axe_wcag_aa(portal: str, page: Page, path: str) -> None:
    response = page.goto(f"{portal}{path}")
    assert response is not None
    assert response.status == 200
    assert axe_violations(page) == []


def test_form_errors_and_the_receipt_pass_axe(portal: str, page: Page) -> None:
    page.goto(f"{portal}/citoyens/opposition/")
    page.get_by_role("button", name="Enregistrer mon opposition").click()
    expect(page.locator("#form-errors")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_label("Numéro de sécurité sociale (NIR)").fill(NIR)
    page.get_by_label("Date de naissance").fill(BIRTH)
    page.get_by_label("Sexe (tel qu'inscrit à l'état civil)").select_option(SEX)
    page.get_by_label("Nom de naissance").fill("Martin")
    page.get_by_label("Prénom").fill("Jeanne")
    page.locator("label[for=id_confirm]").click()
    page.get_by_role("button", name="Enregistrer mon opposition").click()
    expect(page.locator("#receipt-reference")).to_be_visible()
    assert axe_violations(page) == []


def focus_visible(page: Page) -> bool:
    """The focused element draws a focus ring (DSFR: a 2px outline)."""
    return bool(
        page.evaluate(
            "() => { const s = getComputedStyle(document.activeElement);"
            " return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0)"
            " || s.boxShadow !== 'none'; }"
        )
    )


def test_the_objection_form_works_with_the_keyboard_alone(portal: str, browser: Browser) -> None:
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto(f"{portal}/citoyens/opposition/")
        page.locator("#id_nir").wait_for()
        # Tab from the top of the page until the first field is reached.
        for _ in range(60):
            page.keyboard.press("Tab")
            if page.evaluate("() => document.activeElement.id") == "id_nir":
                break
        else:
            pytest.fail("the NIR field cannot be reached with Tab")
        assert focus_visible(page)
        page.keyboard.type(NIR)
        page.keyboard.press("Tab")
        assert page.evaluate("() => document.activeElement.id") == "id_birth_date"
        page.keyboard.type("28/02/1987")
        page.keyboard.press("Tab")
        assert page.evaluate("() => document.activeElement.id") == "id_sex"
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Tab")
        page.keyboard.type("Martin")
        page.keyboard.press("Tab")
        page.keyboard.type("Jeanne")
        page.keyboard.press("Tab")
        assert page.evaluate("() => document.activeElement.id") == "id_confirm"
        page.keyboard.press("Space")
        page.keyboard.press("Tab")
        assert page.evaluate("() => document.activeElement.id") == "objection-submit"
        assert focus_visible(page)
        page.keyboard.press("Enter")
        expect(page.locator("#receipt-reference")).to_be_visible()
    finally:
        context.close()
