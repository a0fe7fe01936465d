"""The citizens' portal in a real browser against a real server: with a synthetic NIR
printed by ``hdh demo``, a citizen objects and gets a receipt; a dataset prepared
afterwards (``hdh prepare run``) leaves that person out, while the dataset prepared
before is unchanged (same checksums)."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e import live

pytestmark = pytest.mark.e2e
ENGINEER = "demo-data-engineer"
IDENTITY = re.compile(r"identité synthétique : NIR (\d{15}), naissance (\S+), sexe (\d)")
READY = re.compile(r"demande (\d+) prête à préparer")

# The demo's ready study under another title (the preparation pages' test finds the
# demo's application by its title).
FILE = """
import dataclasses
from hdh.access.demo import file_and_authorise
from hdh.catalog.models import Base
from hdh.preparation.demo import STUDY
study = dataclasses.replace(STUDY, title="Parcours de soins du diabète (opposition citoyenne)")
application = file_and_authorise(study, Base.objects.get(slug="snds"))
print("APPLICATION", application.pk)
"""

APPROVE = """
from hdh.access.models import Permit
from hdh.accounts.models import User
from hdh.preparation import services
permit = Permit.objects.get(application_id={application})
engineer = User.objects.get(username="{engineer}")
plan = services.create_plan(permit=permit, by=engineer)
services.update_plan(plan=plan, by=engineer, potential_override="Autorisation, article 2.")
services.approve_plan(plan=plan, by=engineer)
"""

PROBE = """
import datetime as dt, json
from hdh.access.models import Permit
from hdh.keys import pseudonyms
from hdh.keys.store import default_store
from hdh.preparation import services
from hdh.preparation.models import PreparationRun
import pyarrow.parquet as pq
from hdh.core import lake

def every_text(dataset):
    folder = lake.root() / dataset.path
    found = set()
    for entry in dataset.manifest["tables"]:
        for row in pq.read_table(folder / entry["path"]).to_pylist():
            found |= {{v for v in row.values() if isinstance(v, str)}}
    return found
permit = Permit.objects.get(application_id={application})
p1 = pseudonyms.level1("{nir}", dt.date.fromisoformat("{birth}"), {sex},
                       key=default_store().level1_key()[1])
out = []
for run in PreparationRun.objects.filter(plan__permit=permit, status="succeeded").order_by("pk"):
    key = services.key_bytes(permit.project, run.key_version)
    out.append({{
        "version": run.dataset.version,
        "present": pseudonyms.level2(p1, key=key) in every_text(run.dataset),
        "problems": services.verify_dataset(run.dataset),
        "register": run.dataset.manifest["objection_register_version"],
        "sha256": {{t["table"]: t["sha256"] for t in run.dataset.manifest["tables"]}},
    }})
print("PROBE" + json.dumps(out))
"""


@dataclass
class Demo:
    server: live.LiveServer
    env: dict[str, str]
    application: str
    identities: list[tuple[str, str, str]]


def hdh(args: list[str], env: dict[str, str], cwd: Path | None = None) -> str:
    result = subprocess.run(
        [*live.hdh_command(), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert result.returncode == 0, (result.stdout[-2000:], result.stderr[-3000:])
    return result.stdout


def checksums(output: str) -> dict[str, str]:
    rows = [line.split("\t") for line in output.splitlines() if line.startswith("  ")]
    return {row[0].strip(): row[3] for row in rows if len(row) == 4}


@pytest.fixture
def demo(shared_demo: live.DemoPlatform) -> Demo:
    identities = IDENTITY.findall(shared_demo.output)
    assert identities, shared_demo.output
    assert READY.search(shared_demo.output), shared_demo.output
    # The platform is shared with the preparation pages' test, which prepares the
    # demo's ready application: this test files one of its own, authorised the same
    # way, so that both find their application as the demo left it. The datasets
    # are prepared by the CLI below, alongside the server.
    filed = hdh(["shell", "-c", FILE], shared_demo.env)
    application = filed.split("APPLICATION", 1)[1].strip()
    engineer = live.demo_account(ENGINEER)
    return Demo(
        live.LiveServer(url=shared_demo.url, researcher=engineer),
        shared_demo.env,
        application,
        identities,
    )


def object_in_browser(page: Page, url: str, nir: str, birth: str, sex: str) -> str:
    page.goto(f"{url}/")
    page.get_by_role("link", name="Mes droits").first.click()
    page.get_by_role("link", name="M'opposer à l'utilisation de mes données").first.click()
    page.get_by_label("Numéro de sécurité sociale (NIR)").fill(nir)
    page.get_by_label("Date de naissance").fill(birth)
    page.get_by_label("Sexe (tel qu'inscrit à l'état civil)").select_option(sex)
    page.get_by_label("Nom de naissance").fill("Dupont")
    page.get_by_label("Prénom").fill("Camille")
    page.locator("label[for=id_confirm]").click()
    expect(page.get_by_label("Je m'oppose à l'utilisation")).to_be_checked()
    page.get_by_role("button", name="Enregistrer mon opposition").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Accusé de réception de votre opposition"
    )
    reference = page.locator("#receipt-reference").inner_text()
    assert re.fullmatch(r"OPP-[0-9A-Z]{10}", reference)
    expect(page.get_by_role("button", name="Imprimer l'accusé de réception")).to_be_visible()
    return reference


def test_a_citizen_objects_and_the_next_dataset_leaves_them_out(
    demo: Demo, browser: Browser
) -> None:
    env, application = demo.env, demo.application
    nir, birth, sex = demo.identities[0]
    hdh(["shell", "-c", APPROVE.format(application=application, engineer=ENGINEER)], env)
    before = checksums(hdh(["prepare", "run", application, "--user", ENGINEER], env))
    assert before

    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    try:
        page = context.new_page()
        reference = object_in_browser(page, demo.server.url, nir, birth, sex)
        # The status page finds it with the reference and the birth date.
        page.get_by_role("link", name="Suivre ou retirer mon opposition").click()
        page.get_by_label("Référence").fill(reference)
        page.get_by_label("Date de naissance").fill(birth)
        page.get_by_role("button", name="Voir mon opposition").click()
        expect(page.locator("#objection-status")).to_contain_text("En vigueur")
    finally:
        context.close()

    after = checksums(hdh(["prepare", "run", application, "--user", ENGINEER], env))
    probe = hdh(
        [
            "shell",
            "-c",
            PROBE.format(application=application, nir=nir, birth=birth, sex=sex),
        ],
        env,
    )
    runs = json.loads(probe.split("PROBE", 1)[1])
    assert [run["version"] for run in runs] == [1, 2]
    first, second = runs
    assert first["present"] is True, "the dataset prepared before holds the person"
    assert second["present"] is False, "the dataset prepared after leaves the person out"
    assert first["problems"] == []
    assert second["problems"] == []
    assert second["register"] > first["register"]
    # The dataset prepared before is unchanged: its manifest still lists the checksums
    # printed when it was made, and verify_dataset above re-read every file against them.
    assert first["sha256"] == before
    assert second["sha256"] == after
    assert after != before
