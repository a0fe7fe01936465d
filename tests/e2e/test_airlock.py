"""The airlock in a real browser against the demo platform (server and worker).

demo-researcher runs a Python job in the demo project's workspace that writes a
table with a cell of 4, opens the airlock from the workspace, asks for its
release and sees the cell flagged, cell by cell; the two demo output checkers
ask for changes and return the request; a second job writes the corrected table
under the same name, the researcher replaces the file and resubmits; both
checkers approve; the researcher downloads the released file, whose SHA-256 is
the workspace output's. Nothing unreleased answers at any URL, to anyone.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e import live

pytestmark = pytest.mark.e2e
RESEARCHER = "demo-researcher"
OUTSIDER = "demo-researcher-2"
CHECKERS = ("demo-output-checker", "demo-output-checker-2")
TABLE = "effectifs.csv"
NOTES = "methode.txt"
JOB_TIMEOUT = 300_000
ENDED = re.compile(r"^(succeeded|failed|timed_out|cancelled|refused)$")

# The researcher's job: people of the project's dataset by sex, then made-up
# disease groups (GROUPS, set by each version); the first version has a cell of 4
# and also writes a note on the method (NOTE).
JOB = """\
import os
from pathlib import Path

import pandas as pd

data = Path(os.environ["HDH_DATA"])
outputs = Path(os.environ["HDH_OUTPUTS"])
people = pd.read_parquet(data / "IR_BEN_R.parquet", columns=["BEN_SEX_COD"])
by_sex = people["BEN_SEX_COD"].value_counts()
rows = {"bénéficiaires": (int(by_sex.get(1, 0)), int(by_sex.get(2, 0))), **GROUPS}
table = pd.DataFrame.from_dict(rows, orient="index", columns=["hommes", "femmes"])
table.index.name = "groupe"
table.to_csv(outputs / "effectifs.csv")
if NOTE:
    (outputs / "methode.txt").write_text(NOTE, encoding="utf-8")
print("groupes", len(table))
"""
FIRST = (
    "GROUPS = {'diabète de type 1': (120, 4), 'diabète de type 2': (85, 60)}\n"
    "NOTE = 'Effectifs par sexe (IR_BEN_R) ; groupes de diabète déclarés.\\n'\n" + JOB
)
CORRECTED = "GROUPS = {'diabète (types 1 et 2)': (205, 64)}\nNOTE = ''\n" + JOB


@pytest.fixture
def demo_server(shared_demo: live.DemoPlatform) -> live.LiveServer:
    return live.LiveServer(url=shared_demo.url, researcher=live.demo_account(RESEARCHER))


def signed_in(
    browser: Browser, server: live.LiveServer, username: str
) -> tuple[BrowserContext, Page]:
    context = browser.new_context(
        locale="fr-FR", viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    context.set_default_timeout(30_000)
    page = context.new_page()
    live.sign_in(page, server, live.demo_account(username))
    return context, page


def run_job(page: Page, dashboard: str, name: str, script: str) -> str:
    """Submit a Python job from the workspace's pages, wait for it to succeed and
    return the SHA-256 of the table it wrote, as the workspace shows it."""
    page.goto(dashboard)
    page.locator("#jobs-link").click()
    page.locator("#new-job").click()
    page.locator("#id_kind").select_option("python")
    page.locator("#id_name").fill(name)
    page.locator("#id_script").fill(script)
    page.locator("#submit-job").click()
    expect(page.locator("#job-status")).to_be_visible()
    # The status fragment is polled; the page reloads once the job ends.
    state = page.locator("#job-state")
    expect(state).to_have_text(ENDED, timeout=JOB_TIMEOUT)
    expect(page.locator("#job-status [data-done]")).to_be_attached()
    assert state.inner_text() == "succeeded", page.locator("#job-status").inner_text()
    expect(page.locator("#job-log")).to_contain_text("groupes")
    page.locator("#outputs").get_by_role("link", name=TABLE).click()
    expect(page.locator("#preview-table")).to_contain_text("bénéficiaires")
    return page.locator("#output-facts code").inner_text().strip()


def review(page: Page, server: live.LiveServer, reference: str, decision: str) -> None:
    page.goto(f"{server.url}/sas/controle/")
    page.get_by_role("link", name=reference).click()
    page.locator("#files").get_by_role("link", name=TABLE).click()
    # DSFR draws the radio buttons over their labels: a person clicks the label.
    page.locator(f'label[for="vote-{decision}"]').click()
    page.locator("#vote-submit").click()
    expect(page.locator(f'[data-vote="{decision}"]')).to_have_count(1)
    if decision == "changes_requested":
        page.locator("#comment-text").fill("Masquer ou regrouper la cellule de 4 (seuil 11).")
        page.locator('label[for="visibility-public"]').click()
        page.locator("#comment-submit").click()
    page.get_by_role("link", name="Retour à la demande").click()
    page.locator("#submit-review").click()
    expect(page.get_by_text("Votre examen de ce tour est soumis.")).to_be_visible()


def status(page: Page, url: str) -> int:
    return page.request.get(url).status


def test_a_table_is_flagged_fixed_checked_twice_and_released(
    demo_server: live.LiveServer, browser: Browser
) -> None:
    server = demo_server
    contexts = []
    try:
        researcher_context, researcher = signed_in(browser, server, RESEARCHER)
        contexts.append(researcher_context)
        researcher.goto(f"{server.url}/espaces/")
        researcher.locator("#workspaces a.fr-link").first.click()
        expect(researcher.locator("#workspace-state")).to_have_text("ouvert")
        dashboard = researcher.url

        # A job writes the table with a cell of 4 and a note on the method.
        first_sha256 = run_job(researcher, dashboard, "effectifs.py", FIRST)
        expect(researcher.locator("#preview-table")).to_contain_text("diabète de type 1")
        researcher.go_back()
        expect(researcher.locator("#outputs")).to_contain_text(NOTES)
        output_pages = [
            f"{server.url}{href}"
            for href in researcher.locator("#outputs a.fr-link").evaluate_all(
                "links => links.map(a => a.getAttribute('href'))"
            )
        ]
        assert len(output_pages) == 2, output_pages

        # The researcher opens the airlock from the workspace and bundles both files.
        researcher.goto(dashboard)
        airlock_link = researcher.locator("#airlock-link")
        expect(airlock_link).to_have_text("Demander la sortie de résultats")
        airlock_link.click()
        researcher.locator("#create-request").click()
        reference = researcher.locator("h1").inner_text().rsplit(" ", 1)[-1]
        request_url = researcher.url
        researcher.locator(f'[data-output="{TABLE}"]').get_by_role("button", name="Ajouter").click()
        notes = researcher.locator(f'[data-output="{NOTES}"]')
        notes.locator("select").select_option("supporting")
        notes.get_by_role("button", name="Ajouter").click()
        # The cell of 4 is flagged, cell by cell, with the rule and the suggestion.
        expect(researcher.locator(f'[data-file="{TABLE}"] [data-check="fail"]')).to_be_visible()
        researcher.locator("#files").get_by_role("link", name=TABLE).click()
        expect(researcher.locator("h1")).to_have_text(TABLE)
        assert first_sha256 in researcher.locator("body").inner_text()
        flagged = researcher.locator('td[data-verdict="fail"]', has_text="moins de 11 unités")
        expect(flagged).to_have_count(1)
        expect(flagged).to_contain_text("4")
        expect(flagged).to_contain_text("masquer")
        researcher.goto(request_url)
        researcher.locator("textarea[name=context]").fill(
            "Bénéficiaires du projet par sexe, et deux groupes de diabète, en 2023."
        )
        researcher.locator("textarea[name=controls]").fill(
            "Aucun contrôle appliqué pour l'instant."
        )
        researcher.get_by_role("button", name="Enregistrer le groupe").click()
        researcher.locator("#submit-request").click()
        expect(researcher.locator("#request-state")).to_have_attribute("data-state", "submitted")
        table_page = researcher.locator("#files").get_by_role("link", name=TABLE)
        unreleased = f"{server.url}{table_page.get_attribute('href')}telecharger/"
        assert status(researcher, unreleased) == 404

        # Two checkers ask for changes; the second returns the request.
        checkers = []
        for username in CHECKERS:
            context, page = signed_in(browser, server, username)
            contexts.append(context)
            checkers.append(page)
            review(page, server, reference, "changes_requested")
        checkers[1].locator("#return-request").click()
        expect(checkers[1].locator("#request-state")).to_have_attribute("data-state", "returned")

        # A second job writes the corrected table under the same name; the
        # researcher replaces the file in the request and resubmits.
        fixed_sha256 = run_job(researcher, dashboard, "effectifs.py", CORRECTED)
        assert fixed_sha256 != first_sha256
        expect(researcher.locator("#preview-table")).to_contain_text("diabète (types 1 et 2)")
        researcher.goto(request_url)
        expect(researcher.get_by_text("Masquer ou regrouper la cellule de 4").first).to_be_visible()
        researcher.get_by_role("button", name="Remplacer par la nouvelle version").click()
        expect(researcher.locator(f'[data-file="{TABLE}"] [data-check="pass"]')).to_be_visible()
        researcher.locator("textarea[name=controls]").fill(
            "La cellule de 4 est regroupée : diabète de types 1 et 2 ensemble (seuil 11)."
        )
        researcher.get_by_role("button", name="Enregistrer le groupe").click()
        researcher.locator("#submit-request").click()
        expect(researcher.locator("#request-state")).to_have_attribute("data-state", "submitted")

        # Both checkers approve, each in their own session; the request is released.
        for page in checkers:
            review(page, server, reference, "approved")
        checkers[1].locator("#approve-request").click()
        expect(checkers[1].locator("#request-state")).to_have_attribute("data-state", "released")

        # The researcher downloads the released table: it is the corrected
        # workspace output, byte for byte.
        researcher.goto(request_url)
        link = researcher.locator(f'[data-file="{TABLE}"]').get_by_role("link", name="Télécharger")
        assert link.get_attribute("data-sha256") == fixed_sha256
        with researcher.expect_download() as download_info:
            link.click()
        data = Path(download_info.value.path()).read_bytes()
        assert hashlib.sha256(data).hexdigest() == fixed_sha256
        assert "diabète (types 1 et 2),205,64" in data.decode("utf-8")
        assert b",4\n" not in data

        # Nothing unreleased is downloadable, by anyone, at any URL: the supporting
        # file, the released file under another request, the workspace outputs.
        href = link.get_attribute("href")
        assert href is not None
        released = f"{server.url}{href}"
        table_id = href.rstrip("/").split("/")[-2]
        notes_href = (
            researcher.locator("#files").get_by_role("link", name=NOTES).get_attribute("href")
        )
        assert notes_href is not None
        notes_id = notes_href.rstrip("/").split("/")[-1]
        request_id = request_url.rstrip("/").split("/")[-1]
        never = [
            f"{server.url}/sas/{request_id}/fichiers/{notes_id}/telecharger/",
            f"{server.url}/sas/{int(request_id) + 1}/fichiers/{table_id}/telecharger/",
            *(f"{page}telecharger/" for page in output_pages),
        ]
        outsider_context, outsider = signed_in(browser, server, OUTSIDER)
        contexts.append(outsider_context)
        for page in (researcher, *checkers, outsider):
            for url in never:
                assert status(page, url) == 404, url
        # Released files go to the project's members only.
        for page in (*checkers, outsider):
            assert status(page, unreleased) == 404
            assert status(page, released) == 404
            assert status(page, dashboard) == 404
        assert status(researcher, released) == 200
    finally:
        for context in contexts:
            context.close()
