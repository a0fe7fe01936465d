"""In a real browser: a researcher builds a perimeter from the SNDS catalog and files an
application; the demo staff take it to "authorised"; the public directory shows it and
the audit log stays intact."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.access.e2e.conftest import DemoServer
from tests.e2e import live

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
TITLE = "Recours aux soins de ville après une fracture du col du fémur"


def as_person(browser: Browser, server: DemoServer, username: str) -> Page:
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    account = server.accounts[username]
    live.sign_in(page, live.LiveServer(url=server.url, researcher=account), account)
    return page


def test_an_application_from_filing_to_authorisation(
    browser: Browser, live_demo: DemoServer
) -> None:
    server = live_demo
    applicant = as_person(browser, server, "demo-researcher")
    applicant.goto(f"{server.url}/projets/")
    applicant.get_by_role("link", name="Nouvelle demande").click()
    applicant.locator("#id_title").fill(TITLE)
    applicant.locator("#id_legal_route").select_option("standard")
    applicant.get_by_role("button", name="Créer le brouillon").click()

    fields = {
        "lay_summary": "Comprendre le recours aux soins après une fracture de hanche.",
        "technical_summary": "Cohorte rétrospective à partir du DCIR et du PMSI.",
        "purpose": "Décrire les soins de rééducation dans l'année suivant la fracture.",
        "public_interest": "Améliorer l'organisation de la rééducation.",
        "expected_outputs": "Indicateurs agrégés et publications.",
        "controller_name": "Institut de recherche en santé publique (démonstration)",
        "implementer_name": "Équipe d'épidémiologie",
        "population_criteria": "Personnes de 65 ans et plus hospitalisées pour fracture.",
        "duration_months": "24",
        "processing_location": "Plateforme hdh",
    }
    for name, value in fields.items():
        applicant.locator(f"#id_{name}").fill(value)
    applicant.locator("#id_period_start").fill("2019-01-01")
    applicant.locator("#id_period_end").fill("2023-12-31")
    applicant.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(applicant.locator("#id_purpose")).to_have_value(fields["purpose"])

    applicant.locator("#id_protocol").set_input_files(
        files=[{"name": "protocole.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    applicant.get_by_role("button", name="Joindre le protocole").click()
    expect(applicant.get_by_text("Protocole joint.")).to_be_visible()

    # The perimeter, from the SNDS catalog: base, then table, then variables.
    applicant.get_by_role("link", name="Construire le périmètre").first.click()
    applicant.get_by_role("link", name=re.compile(r"^SNDS")).click()
    applicant.locator("#table-q").fill("ER_PRS_F")
    applicant.get_by_role("button", name="Filtrer").click()
    applicant.get_by_role("link", name="ER_PRS_F", exact=True).click()
    applicant.locator("label[for^=var-]").first.click()
    expect(applicant.locator("input[name=variables]").first).to_be_checked()
    applicant.locator("#id_justification").fill("Les prestations décrivent les soins de ville.")
    applicant.get_by_role("button", name="Ajouter au périmètre").click()
    expect(applicant.get_by_role("cell", name="ER_PRS_F").first).to_be_visible()

    applicant.get_by_role("link", name="Revenir au dossier").click()
    applicant.get_by_role("button", name="Déposer la demande").click()
    expect(applicant.get_by_text("Demande déposée.")).to_be_visible()
    file_url = applicant.url

    officer = as_person(browser, server, "demo-guichet-officer")
    officer.goto(file_url)
    officer.get_by_role("button", name="Prendre en charge").click()
    officer.get_by_role("button", name="Déclarer recevable").click()
    expect(officer.get_by_text("Demande déclarée recevable.")).to_be_visible()
    officer.get_by_role("button", name="Désigner").click()
    expect(officer.get_by_text("Rapporteur désigné.")).to_be_visible()

    reviewer = as_person(browser, server, "demo-committee-member")
    reviewer.goto(file_url)
    reviewer.get_by_role("button", name="Enregistrer ma déclaration").click()
    reviewer.locator("#opinion-opinion").select_option("favourable")
    reviewer.locator("#opinion-rationale").fill("Méthode adaptée, données proportionnées.")
    reviewer.get_by_role("button", name="Voter").click()
    expect(reviewer.get_by_text("Vote enregistré.")).to_be_visible()
    # One member assigned, one vote: the quorum ("all") is reached and the chair records.
    expect(reviewer.locator("#committee-votes")).to_contain_text("Quorum atteint")
    reviewer.locator("#committee-outcome").select_option("favourable")
    reviewer.locator("#committee-rationale").fill("Projet d'intérêt public.")
    reviewer.get_by_role("button", name="Rendre l'avis du comité").click()
    expect(reviewer.get_by_text("Avis du comité rendu.")).to_be_visible()

    regulator = as_person(browser, server, "demo-regulator")
    regulator.goto(file_url)
    regulator.locator("#decision-outcome").select_option("authorised")
    regulator.locator("#decision-rationale").fill("Traitement conforme.")
    regulator.locator("#decision-end_date").fill(
        (dt.date.today() + dt.timedelta(days=730)).isoformat()
    )
    regulator.get_by_role("button", name="Enregistrer la décision").click()
    expect(regulator.get_by_text("Décision enregistrée.")).to_be_visible()
    expect(regulator.locator(".fr-badge", has_text="Autorisée").first).to_be_visible()

    # Anyone, signed in or not, finds it in the directory and the statistics.
    visitor = browser.new_page(locale="fr-FR")
    visitor.goto(f"{server.url}/projets/repertoire/?q=fémur")
    expect(visitor.get_by_role("link", name=TITLE)).to_be_visible()
    visitor.goto(f"{server.url}/projets/statistiques/")
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Statistiques des délais")
    visitor.close()

    live.run_hdh(["audit", "verify"], server.env)
