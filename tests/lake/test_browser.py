"""A data producer, in a real browser against a real server, deposits a file, reads
its validation report, fixes the file, deposits it again and sees the profile chart."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.e2e import live

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
SETUP = """
from tests.factories.catalog import create_test_base
from tests.lake.conftest import lake_folder
from hdh.catalog.services.dictionary import import_tableschema
from pathlib import Path
base = create_test_base(slug="registre-demo", title="Registre de démonstration")
import_tableschema(directory=lake_folder(Path({folder!r})), base=base, by=None)
"""
HEADER = "PAT_ID;PAT_SEX;PAT_NAI_ANN;PAT_DPT\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, live.Account]]:
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM}")
    home = tmp_path_factory.mktemp("lake-e2e")
    producer = live.Account(
        username="e2e-producteur",
        email="producteur@example.org",
        password=f"Essai-{secrets.token_urlsafe(18)}",
        totp_secret=pyotp.random_base32(),
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("HDH_", "DJANGO_", "DATABASE_URL"))
    }
    env.update(
        HDH_HOME=str(home),
        DATABASE_URL=f"sqlite:///{home / 'hdh.sqlite3'}",
        E2E_PASSWORD=producer.password,
        PYTHONPATH=str(ROOT),
    )
    live.run_hdh(["migrate", "--noinput"], env)
    live.run_hdh(
        [
            "createuser",
            producer.username,
            "--email",
            producer.email,
            "--role",
            "data_producer",
            "--password-env",
            "E2E_PASSWORD",
            "--totp-secret",
            producer.totp_secret,
        ],
        env,
    )
    live.run_hdh(["shell", "-c", SETUP.format(folder=str(home / "schema"))], env)
    with live.serving(env, home / "server.log") as url:
        yield url, producer


@pytest.fixture
def page() -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context(locale="fr-FR")
        context.set_default_timeout(30_000)
        try:
            yield context.new_page()
        finally:
            browser.close()


def test_deposit_read_the_report_fix_and_see_the_profile(server, page: Page, tmp_path: Path):
    url, producer = server
    live.sign_in(page, live.LiveServer(url=url, researcher=producer), producer)
    rows = [f"P{i:07d};{1 + i % 2};{1950 + i % 3};075\n" for i in range(30)]
    bad = tmp_path / "patients.csv"
    bad.write_text(HEADER + "".join(rows).replace("P0000004;1", "P0000004;5"), encoding="utf-8")

    def deposit(path: Path) -> None:
        page.goto(f"{url}/lac/deposer/")
        page.get_by_label("Base", exact=True).select_option(index=1)
        page.get_by_role("textbox", name="Table").fill("PATIENT")
        page.locator("input[type=file]").set_input_files(str(path))
        page.get_by_role("button", name="Déposer et vérifier").click()

    deposit(bad)
    expect(page.get_by_role("heading", name="Dépôt refusé : rien n'a été publié")).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text("code absent de la nomenclature")
    expect(page.get_by_role("table")).to_contain_text("patients.csv, ligne 5")

    fixed = tmp_path / "patients-corrige.csv"
    fixed.write_text(HEADER + "".join(rows), encoding="utf-8")
    deposit(fixed)
    expect(page.get_by_role("heading", name="Dépôt accepté")).to_be_visible()

    page.goto(f"{url}/lac/profils/registre-demo/PATIENT/PAT_SEX/")
    expect(page.get_by_role("heading", name="Distribution")).to_be_visible()
    expect(page.get_by_role("img", name="Distribution des valeurs")).to_contain_text("15")
