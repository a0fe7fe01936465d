"""No national identifier, pseudonym or health code reaches a log.

NIRs with a valid key (written plain, with spaces, Corsican), a level-1 pseudonym
and ICD-10 codes are typed into every input a visitor, a citizen, a researcher, a
script with an API token and an operator at the command line can reach; every log
record (root logger at DEBUG as with ``HDH_LOG_LEVEL=DEBUG``, Django's request and
security loggers included) and the commands' output are captured, and the audit
log is read back. The worker is left out: it closes database connections between
tasks, which a test inside one transaction cannot allow on PostgreSQL.

Decision on health codes: they must not appear in any log record. The audit log
may hold catalogue codes as references to the catalogue (what an application's
perimeter asks for, which code list was edited), never next to a person; the
inputs below attach codes to people (objection, rights request, login) or to free
text, so none of them may reach the audit details either.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from hdh.accounts import tokens
from hdh.audit.models import AuditEvent
from hdh.catalog.services.dictionary import import_tableschema
from hdh.core.permissions import Role
from hdh.keys import pseudonyms
from hdh.keys.nir import control_key
from hdh.keys.store import KeyStore
from tests.access.helpers import client_for
from tests.factories.accounts import OrganisationFactory, UserFactory
from tests.factories.catalog import create_test_base
from tests.lake.conftest import lake_folder

pytestmark = pytest.mark.django_db


def valid_nir(body: str) -> str:
    return body + f"{control_key(body):02d}"


NIRS = [valid_nir("1870263319179"), valid_nir("2950175123456"), valid_nir("185022A012345")]
SPACED = "{} {} {} {} {} {} {}".format(
    *(NIRS[0][i:j] for i, j in ((0, 1), (1, 3), (3, 5), (5, 7), (7, 10), (10, 13), (13, 15)))
)
HEALTH_CODES = ["C50.9", "F20", "C509", "E11.65"]
HOSTILE = f"{NIRS[0]} {SPACED} {' '.join(HEALTH_CODES)}"


@dataclass
class Captured:
    records: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    pseudonym: str = ""

    def logs(self) -> str:
        return "\n".join(self.records)

    def audit(self) -> str:
        return "\n".join(
            json.dumps([e.actor_label, e.action, e.target_type, e.target_id, e.details])
            for e in AuditEvent.objects.order_by("seq")
        )


def console_handler() -> logging.StreamHandler:  # type: ignore[type-arg]
    """The handler settings.LOGGING gives the root logger: what the platform writes."""
    for handler in logging.getLogger().handlers:
        if handler.get_name() == "console" and isinstance(handler, logging.StreamHandler):
            return handler
    raise AssertionError("settings.LOGGING no longer has a root 'console' handler")


def prepare(tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    keys = tmp_path / "keys"
    KeyStore(keys).init()
    settings.HDH_KEY_STORE = keys
    settings.MEDIA_ROOT = tmp_path / "media"


@contextmanager
def capture_logs() -> Iterator[Captured]:
    """HDH_LOG_LEVEL=DEBUG, the most an operator can ask for: the root logger at
    DEBUG, every logger the configuration leaves unset (hdh.*, libraries) with it,
    Django's loggers at the level settings.LOGGING and Django's defaults give them.
    The platform's own handler writes into a buffer, through its own filters."""
    result = Captured()
    root = logging.getLogger()
    level = root.level
    console = console_handler()
    buffer = io.StringIO()
    previous = console.setStream(buffer)
    root.setLevel(logging.DEBUG)
    try:
        yield result
    finally:
        console.flush()
        result.records.append(buffer.getvalue())
        console.setStream(previous)  # type: ignore[arg-type]
        root.setLevel(level)


def command(result: Captured, *args: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except (CommandError, SystemExit) as exc:
        err.write(str(exc))
    if args[0] != "createuser":
        result.outputs.append(out.getvalue() + err.getvalue())


def exercise_every_input(result: Captured, tmp_path: Path) -> None:
    """Type hostile values into every input of the platform."""
    from hdh.citizens.models import ObjectionReceipt  # noqa: F401 - the portal is installed

    base = create_test_base(title="Base publique de test")
    import_tableschema(directory=lake_folder(tmp_path / "schema"), base=base, by=None)
    base.refresh_from_db()
    anonymous = Client(raise_request_exception=False)
    # Catalog: pages, search, API, unknown objects named by a NIR.
    for url in (
        f"/catalogue/recherche/?q={HOSTILE}",
        f"/api/catalog/search?q={HOSTILE}",
        f"/catalogue/bases/{NIRS[0]}/",
        f"/api/catalog/bases/{NIRS[1]}",
        f"/catalogue/bases/{base.slug}/tables/{NIRS[2]}/",
        f"/projets/repertoire/{NIRS[0]}/",
        f"/{NIRS[0]}/C50.9/",
    ):
        anonymous.get(url)
    anonymous.get("/", HTTP_HOST=f"{NIRS[0]}.example.org")  # DisallowedHost is logged
    # Sign-in: NIR as user name, password and second-factor code.
    for _ in range(3):
        anonymous.post(reverse("accounts:login"), {"username": NIRS[0], "password": HOSTILE})
        anonymous.post(reverse("accounts:login"), {"username": SPACED, "password": NIRS[1]})
    anonymous.post(reverse("accounts:mfa_verify"), {"code": NIRS[2]})
    # Citizens: an objection (valid), one refused (bad key), a status lookup, a rights request.
    citizen = Client(raise_request_exception=False)
    identity = {
        "birth_date": "1987-02-28",
        "sex": "1",
        "last_name": "Martin",
        "first_name": "Jeanne",
        "confirm": "on",
        "website": "",
    }
    citizen.post("/citoyens/opposition/", {"nir": NIRS[0], **identity})
    citizen.post("/citoyens/opposition/", {"nir": SPACED, **identity})
    citizen.post("/citoyens/opposition/", {"nir": NIRS[1][:-2] + "00", **identity})
    citizen.post("/citoyens/opposition/", {"nir": HOSTILE, **identity})
    citizen.post("/citoyens/opposition/suivi/", {"reference": NIRS[2], "birth_date": "1987-02-28"})
    citizen.post(
        "/citoyens/droits/",
        {
            "kind": "access",
            "message": f"Mon NIR est {SPACED}, diagnostic C50.9 et F20.",
            "last_name": NIRS[1],
            "first_name": "C50.9",
            "birth_date": "1987-02-28",
            "email": "jeanne@example.org",
            "website": "",
        },
    )
    level1_key = KeyStore(Path(settings.HDH_KEY_STORE)).level1_key()[1]
    result.pseudonym = pseudonyms.level1(NIRS[0], dt.date(1987, 2, 28), 1, key=level1_key)
    anonymous.get(f"/catalogue/recherche/?q={result.pseudonym}")
    # A researcher files an application through the pages, values in free text.
    researcher = UserFactory(roles=[Role.RESEARCHER], organisation=OrganisationFactory())
    client = client_for(researcher)
    client.raise_request_exception = False
    created = client.post(
        reverse("access:create"), {"title": f"Étude {NIRS[0]} C50.9", "legal_route": "standard"}
    )
    if created.status_code == 302:
        client.post(
            created.url,
            {
                "title": f"Étude {NIRS[0]}",
                "purpose": HOSTILE,
                "lay_summary": f"Patients {SPACED} atteints de F20",
                "population_criteria": f"{result.pseudonym} C50.9",
                "duration_months": NIRS[1],
            },
        )
    client.get(f"/catalogue/recherche/?q={HOSTILE}")
    # A script with an API token.
    producer = UserFactory(
        roles=[Role.DATA_PRODUCER, Role.RESEARCHER],
        organisation=OrganisationFactory(),
        with_totp=True,
    )
    _, raw = tokens.create_token(by=producer, owner=producer, label="script")
    api = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {raw}")
    api.post(
        "/api/access/applications",
        json.dumps({"title": f"Étude {NIRS[0]} C50.9", "legal_route": "standard"}),
        content_type="application/json",
    )
    api.post(
        "/api/catalog/bases",
        json.dumps({"slug": NIRS[0], "title": HOSTILE, "description": HOSTILE}),
        content_type="application/json",
    )
    api.patch(
        f"/api/catalog/bases/{base.slug}",
        json.dumps({"description": HOSTILE, "contact_email": f"{NIRS[0]}@example.org"}),
        content_type="application/json",
    )
    api.get(f"/api/access/applications/{NIRS[0]}")
    Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer hdh_{NIRS[0]}").get(
        "/api/access/applications"
    )
    # The command line.
    deposit = tmp_path / "deposit.csv"
    deposit.write_text(f"PAT_ID;PAT_SEX\n{NIRS[0]};C50.9\n{SPACED};F20\n", encoding="utf-8")
    command(result, "catalog", "search", HOSTILE)
    command(
        result,
        "lake",
        "ingest",
        "--base",
        base.slug,
        "--table",
        "PATIENT",
        "--as",
        producer.username,
        str(deposit),
    )
    command(
        result, "createuser", NIRS[0], "--email", f"{NIRS[1]}@example.org", "--role", "researcher"
    )
    command(result, "prepare", "plan", NIRS[0])


@pytest.fixture
def scanned(tmp_path: Path, settings) -> Captured:  # type: ignore[no-untyped-def]
    prepare(tmp_path, settings)
    with capture_logs() as captured:
        exercise_every_input(captured, tmp_path)
    return captured


def _patterns(values: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(rf"(?<![0-9A-Za-z]){re.escape(v)}(?![0-9A-Za-z])" for v in values))


def test_the_scenario_reaches_the_logs_and_the_audit(scanned: Captured) -> None:
    """The scan would see a leak: requests were logged and audited."""
    logs = scanned.logs()
    assert len(scanned.outputs) == 3
    assert "deposit rejected" in scanned.outputs[1]
    assert "Not Found" in logs
    assert "django.security.DisallowedHost" in logs
    # ...and carried the hostile values, which the platform's filter masked.
    assert "[NIR masqué]" in logs
    assert "[code masqué]" in logs
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"accounts.login.failed", "preparation.objection_filed"} <= actions, actions


def test_no_nir_or_pseudonym_in_any_log_or_audit_detail(scanned: Captured) -> None:
    forbidden = [*NIRS, SPACED, *(nir[:13] for nir in NIRS), scanned.pseudonym]
    pattern = _patterns(forbidden)
    for where, text in (
        ("logs", scanned.logs()),
        ("audit", scanned.audit()),
        ("command output", "\n".join(scanned.outputs)),
    ):
        found = pattern.search(text)
        assert found is None, f"{where}: {text[max(0, found.start() - 200) : found.end() + 50]}"


def test_no_health_code_in_any_log_record(scanned: Captured) -> None:
    pattern = _patterns(HEALTH_CODES)
    for where, text in (("logs", scanned.logs()), ("audit", scanned.audit())):
        found = pattern.search(text)
        assert found is None, f"{where}: {text[max(0, found.start() - 200) : found.end() + 50]}"
