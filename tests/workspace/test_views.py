"""The workspace pages: what members see and do, what everyone else gets (404), hostile
input through the pages, and that no workspace URL ever hands out a file."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, reverse

from hdh.access.services import decisions
from hdh.access.states import State
from hdh.accounts.models import User
from hdh.audit.models import AuditEvent
from hdh.core import clock
from hdh.core.permissions import Role
from hdh.workspace import services
from hdh.workspace import urls as workspace_urls
from hdh.workspace.models import Job, JobStatus, Output, Workspace
from tests.access.helpers import client_for
from tests.factories.access import Staff, create_application_at, researcher, staff
from tests.preparation.conftest import (  # noqa: F401  (fixtures)
    World,
    _own_key_store,
    session_keys,
    synthetic_snds,
    world,
)
from tests.preparation.helpers import approved_plan, run

# A Python job that writes a table, a chart and a file with no preview.
JOB = """\
import os
from pathlib import Path

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

data = Path(os.environ["HDH_DATA"])
out = Path(os.environ["HDH_OUTPUTS"])
frame = pd.read_parquet(data / "IR_BEN_R.parquet")
counts = frame.groupby("BEN_SEX_COD").size().reset_index(name="personnes")
counts.to_csv(out / "effectifs.csv", index=False)
figure, axes = plt.subplots()
axes.bar(counts["BEN_SEX_COD"].astype(str), counts["personnes"])
figure.savefig(out / "effectifs.png")
(out / "notes.bin").write_bytes(bytes(range(256)))
print("personnes", len(frame))
"""


@dataclass
class Space:
    world: World
    workspace: Workspace
    member: User

    @property
    def url(self) -> str:
        return f"/espaces/{self.workspace.reference}/"


@pytest.fixture(autouse=True)
def _workspaces_root(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.HDH_WORKSPACES = tmp_path / "workspaces"


@pytest.fixture
def space(world: World) -> Space:  # noqa: F811
    """The world's permit with its dataset prepared and its workspace opened."""
    run(approved_plan(world.permit, world.engineer), world.engineer)
    member = world.application.created_by
    assert member is not None
    workspace = services.workspace_for(permit=world.permit, by=member)
    return Space(world, workspace, member)


def _finished_job(space: Space, script: str = JOB, name: str = "effectifs.py") -> Job:
    job = services.submit_job(
        workspace=space.workspace, kind="python", name=name, script=script, by=space.member
    )
    done = services.execute_job(job.pk)
    assert done.status == JobStatus.SUCCEEDED, (done.message, services.queries.job_log(done))
    return done


def _page(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return str(response.content.decode())


# --- what a member sees --------------------------------------------------------------------
def test_a_member_sees_the_list_the_dashboard_the_console_and_the_jobs(space: Space) -> None:
    client = client_for(space.member)
    listing = _page(client.get("/espaces/"))
    assert space.world.application.title in listing
    assert space.url in listing

    dashboard = _page(client.get(space.url))
    assert 'id="airlock-notice"' in dashboard
    assert "sas de sortie" in dashboard
    dataset = services.current_dataset(space.workspace)
    assert dataset is not None
    assert f"Version {dataset.version}" in dashboard
    for entry in dataset.manifest["tables"]:
        assert f"<strong>{entry['table']}</strong>" in dashboard
    # Each planned column links to its catalog page.
    variable = reverse(
        "catalog:variable", kwargs={"slug": "snds", "table": "IR_BEN_R", "variable": "BEN_SEX_COD"}
    )
    assert f'href="{variable}"' in dashboard
    assert client.get(variable).status_code == 200
    assert "workspace.opened" in dashboard  # the workspace's own audit trail

    console = _page(client.get(f"{space.url}console/"))
    assert 'name="sql"' in console
    assert "IR_BEN_R" in console
    assert "télécharger" not in console.lower()
    assert _page(client.get(f"{space.url}traitements/"))
    assert 'name="script"' in _page(client.get(f"{space.url}traitements/nouveau/"))


def test_the_console_shows_capped_results_in_the_page_and_audits_the_hash(space: Space) -> None:
    client = client_for(space.member)
    url = f"{space.url}console/"
    sql = "SELECT BEN_SEX_COD, COUNT(*) AS personnes FROM IR_BEN_R GROUP BY 1 ORDER BY 1"
    page = _page(client.post(url, {"sql": sql}))
    assert "<html" in page
    assert 'id="console-table"' in page
    assert "personnes" in page
    fragment = _page(client.post(url, {"sql": sql}, HTTP_HX_REQUEST="true"))
    assert "<html" not in fragment
    assert 'id="console-table"' in fragment
    capped = _page(
        client.post(url, {"sql": "SELECT * FROM range(5000) t(n)"}, HTTP_HX_REQUEST="true")
    )
    assert "1000 lignes affichées (résultat tronqué à 1000)" in capped
    assert capped.count("<tr>") == 1001  # header and 1,000 rows
    queries = AuditEvent.objects.filter(action="workspace.query")
    assert queries.count() == 3
    for event in queries:
        assert "BEN_SEX_COD" not in str(event.details)
        assert "range" not in str(event.details)


HOSTILE_SQL = [
    "",
    "   ",
    "SELECT 1\x00; ATTACH '/tmp/x.db'",
    "SELECT " + "1 + " * 250_000 + "1",  # 1 MB of SQL
    "ATTACH ':memory:' AS other",
    "ATTACH '/etc/passwd' AS other",
    "COPY (SELECT * FROM IR_BEN_R) TO '/tmp/sortie.csv'",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM '/etc/passwd'",
    "SELECT * FROM read_parquet('../../**/*.parquet')",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET enable_external_access = true",
    "PRAGMA version",
    "CREATE TABLE t AS SELECT 1",
    "SELECT 1; DROP VIEW IR_BEN_R",
    "SELECT * FROM read_csv('https://example.org/x.csv')",
    "SELECT getenv('HOME')",
    "SELECT * FROM glob('/*')",
    "<script>alert(1)</script>",
]


@pytest.mark.parametrize("fragment", [True, False])
def test_hostile_console_input_shows_a_refusal_never_a_500(space: Space, fragment: bool) -> None:
    client = client_for(space.member)
    extra = {"HTTP_HX_REQUEST": "true"} if fragment else {}
    for sql in HOSTILE_SQL:
        response = client.post(f"{space.url}console/", {"sql": sql}, **extra)
        page = _page(response)
        assert 'id="console-refusal"' in page, sql[:60]
        assert 'id="console-table"' not in page, sql[:60]
        assert "<script>alert" not in page
    # A form field sent as a list, or missing, is no better.
    assert 'id="console-refusal"' in _page(client.post(f"{space.url}console/", {}, **extra))


# --- jobs and outputs --------------------------------------------------------------------
def test_a_job_submitted_from_the_page_runs_and_its_outputs_are_shown(space: Space) -> None:
    client = client_for(space.member)
    response = client.post(
        f"{space.url}traitements/nouveau/",
        {"kind": "python", "name": "effectifs.py", "script": JOB},
    )
    assert response.status_code == 302
    job = Job.objects.get(workspace=space.workspace)
    assert response.url == f"{space.url}traitements/{job.number}/"
    waiting = _page(client.get(response.url))
    assert "data-poll-url" in waiting
    status = _page(client.get(f"{space.url}traitements/{job.number}/etat"))
    assert "data-done" not in status
    assert "<html" not in status

    done = services.execute_job(job.pk)
    assert done.status == JobStatus.SUCCEEDED, done.message
    status = _page(client.get(f"{space.url}traitements/{job.number}/etat"))
    assert "data-done" in status
    assert "data-reload" in status
    assert "personnes" in status  # the log
    page = _page(client.get(response.url))
    for name in ("effectifs.csv", "effectifs.png", "notes.bin"):
        assert name in page

    outputs = {o.name: o for o in Output.objects.filter(job=job)}
    table = _page(client.get(f"{space.url}sorties/{outputs['effectifs.csv'].pk}/"))
    assert 'id="preview-table"' in table
    assert "personnes" in table
    image = _page(client.get(f"{space.url}sorties/{outputs['effectifs.png'].pk}/"))
    tag = re.search(r'<img[^>]*id="preview-image"[^>]*>', image)
    assert tag is not None
    assert 'src="data:image/png;base64,iVBORw0KGgo' in tag.group(0)
    other = _page(client.get(f"{space.url}sorties/{outputs['notes.bin'].pk}/"))
    assert 'id="preview-none"' in other
    assert outputs["effectifs.csv"].sha256[:12] in _page(client.get(space.url))

    rerun = client.post(f"{space.url}traitements/{job.number}/relancer")
    assert rerun.status_code == 302
    assert rerun.url == f"{space.url}traitements/{job.number + 1}/"
    cancel = client.post(f"{space.url}traitements/{job.number + 1}/annuler")
    assert cancel.status_code == 302
    assert Job.objects.get(workspace=space.workspace, number=job.number + 1).status == (
        JobStatus.CANCELLED
    )


def test_a_script_file_can_be_uploaded(space: Space) -> None:
    client = client_for(space.member)
    upload = SimpleUploadedFile("comptage.sql", b"SELECT COUNT(*) AS n FROM IR_BEN_R;\n")
    response = client.post(
        f"{space.url}traitements/nouveau/", {"kind": "sql", "name": "", "upload": upload}
    )
    assert response.status_code == 302
    job = Job.objects.get(workspace=space.workspace)
    assert (job.kind, job.name) == ("sql", "comptage.sql")


HOSTILE_JOBS: list[tuple[dict[str, Any], str]] = [
    ({"kind": "python", "name": "a.py", "script": ""}, "vide"),
    ({"kind": "python", "name": "a.py", "script": "print(1)\x00"}, "nul"),
    ({"kind": "python", "name": "a.py", "script": "x" * 200_001}, ""),
    ({"kind": "python", "name": "../x.py", "script": "print(1)"}, "invalide"),
    ({"kind": "python", "name": "a.sql", "script": "print(1)"}, ".py"),
    ({"kind": "sql", "name": "a.py", "script": "SELECT 1"}, ".sql"),
    ({"kind": "ruby", "name": "a.rb", "script": "puts 1"}, ""),
    ({"kind": "python", "name": "a" * 200 + ".py", "script": "print(1)"}, ""),
    ({"kind": "python", "name": "a b.py", "script": "print(1)"}, "invalide"),
]


def test_hostile_job_forms_get_clear_errors_and_create_nothing(space: Space) -> None:
    client = client_for(space.member)
    url = f"{space.url}traitements/nouveau/"
    for form, expected in HOSTILE_JOBS:
        response = client.post(url, form)
        assert response.status_code == 400, form["name"][:40]
        page = response.content.decode()
        assert "fr-error-text" in page or 'id="job-form-errors"' in page, form["name"][:40]
        assert expected.lower() in page.lower(), (form["name"][:40], expected)
    uploads = [
        (SimpleUploadedFile("gros.py", b"#" * 200_001), "200"),
        (SimpleUploadedFile("script.sh", b"echo 1"), ".py ou .sql"),
        (SimpleUploadedFile("latin.py", "print('é')".encode("latin-1")), "UTF-8"),
        (SimpleUploadedFile("../../etc/x.py", b"print(1)"), ""),
    ]
    for upload, expected in uploads:
        response = client.post(url, {"kind": "python", "name": "", "upload": upload})
        assert response.status_code in (302, 400), upload.name
        if response.status_code == 400:
            assert expected in response.content.decode(), upload.name
    both = client.post(
        url,
        {
            "kind": "python",
            "name": "a.py",
            "script": "print(1)",
            "upload": SimpleUploadedFile("b.py", b"print(2)"),
        },
    )
    assert both.status_code == 400
    assert "pas les deux" in both.content.decode()
    # The traversal upload keeps only its last segment; nothing else was queued.
    assert set(Job.objects.filter(workspace=space.workspace).values_list("name", flat=True)) <= {
        "x.py"
    }


def test_a_read_only_workspace_disables_the_forms_and_keeps_the_outputs(space: Space) -> None:
    job = _finished_job(space)
    output = Output.objects.filter(job=job).first()
    assert output is not None
    decisions.close(by=space.world.team.officer, application=space.world.application)
    client = client_for(space.member)
    dashboard = _page(client.get(space.url))
    assert "lecture seule" in dashboard
    console = _page(client.get(f"{space.url}console/"))
    assert 'id="workspace-closed"' in console
    assert re.search(r"<textarea[^>]*disabled", console)
    refused = _page(client.post(f"{space.url}console/", {"sql": "SELECT 1"}))
    assert 'id="console-refusal"' in refused
    assert "lecture seule" in refused
    form = _page(client.get(f"{space.url}traitements/nouveau/"))
    assert re.search(r'id="submit-job"[^>]*disabled', form)
    response = client.post(
        f"{space.url}traitements/nouveau/", {"kind": "python", "name": "a.py", "script": "1"}
    )
    assert response.status_code == 400
    assert "lecture seule" in response.content.decode()
    assert Job.objects.filter(workspace=space.workspace).count() == 1
    assert 'id="rerun-job"' not in _page(client.get(f"{space.url}traitements/{job.number}/"))
    assert client.post(f"{space.url}traitements/{job.number}/relancer").status_code == 302
    assert Job.objects.filter(workspace=space.workspace).count() == 1
    assert 'id="output-preview"' in _page(client.get(f"{space.url}sorties/{output.pk}/"))


def test_an_archived_workspace_shows_nothing(space: Space, settings) -> None:  # type: ignore[no-untyped-def]
    decisions.close(by=space.world.team.officer, application=space.world.application)
    later = clock.now() + dt.timedelta(days=settings.HDH_WORKSPACE_ARCHIVE_DAYS + 2)
    with clock.frozen(later):
        client = client_for(space.member)
        assert client.get(space.url).status_code == 404
        assert client.get(f"{space.url}console/").status_code == 404
        listing = _page(client.get("/espaces/"))
    assert space.url not in listing
    assert "archivé" in listing


# --- everyone else -------------------------------------------------------------------------
def _every_url(space: Space, job: Job, output: Output) -> list[str]:
    base = space.url
    return [
        base,
        f"{base}console/",
        f"{base}traitements/",
        f"{base}traitements/nouveau/",
        f"{base}traitements/{job.number}/",
        f"{base}traitements/{job.number}/etat",
        f"{base}traitements/{job.number}/annuler",
        f"{base}traitements/{job.number}/relancer",
        f"{base}sorties/{output.pk}/",
    ]


def test_non_members_other_projects_and_staff_get_404(space: Space) -> None:
    job = _finished_job(space)
    output = Output.objects.filter(job=job).first()
    assert output is not None
    other_team = Staff()
    other = create_application_at(State.CONTRACT_SIGNED, team=other_team)
    assert other.created_by is not None
    outsiders = [researcher(), other.created_by]
    outsiders += [
        staff(role)
        for role in (
            Role.GUICHET_OFFICER,
            Role.COMMITTEE_MEMBER,
            Role.REGULATOR,
            Role.DATA_ENGINEER,
            Role.OUTPUT_CHECKER,
            Role.AUDITOR,
            Role.ADMINISTRATOR,
        )
    ]
    urls = _every_url(space, job, output)
    denied_before = AuditEvent.objects.filter(action="permission.denied").count()
    for outsider in outsiders:
        client = client_for(outsider)
        assert space.url not in client.get("/espaces/").content.decode()
        for url in urls:
            assert client.get(url).status_code in (404, 405), (outsider.username, url)
            assert client.post(url, {"sql": "SELECT 1"}).status_code in (404, 405), url
        # A reference that names nothing answers the same.
        assert client.get("/espaces/ET-AUT-INCONNU/").status_code == 404
    assert AuditEvent.objects.filter(action="permission.denied").count() > denied_before
    assert Job.objects.filter(workspace=space.workspace).count() == 1

    anonymous = Client()
    for url in urls:
        response = anonymous.get(url)
        if response.status_code != 405:
            assert response.status_code == 302, url
            assert response.url.startswith(reverse("accounts:login")), url


def test_posts_need_the_csrf_token(space: Space) -> None:
    job = _finished_job(space)
    client = client_for(space.member)
    client.handler.enforce_csrf_checks = True
    for url, data in (
        (f"{space.url}console/", {"sql": "SELECT 1"}),
        (
            f"{space.url}traitements/nouveau/",
            {"kind": "sql", "name": "a.sql", "script": "SELECT 1"},
        ),
        (f"{space.url}traitements/{job.number}/relancer", {}),
        (f"{space.url}traitements/{job.number}/annuler", {}),
    ):
        assert client.post(url, data).status_code == 403, url
        assert client.post(url, data, HTTP_HX_REQUEST="true").status_code == 403, url
    assert Job.objects.filter(workspace=space.workspace).count() == 1
    assert not AuditEvent.objects.filter(action="workspace.query").exists()


def test_no_workspace_url_returns_a_data_file(space: Space) -> None:
    """Every URL pattern of the app, with real objects, answered as HTML at most."""
    job = _finished_job(space)
    outputs = list(Output.objects.filter(job=job))
    kwargs_for = {
        "ref": space.workspace.reference,
        "number": job.number,
    }
    client = client_for(space.member)
    patterns = [p for p in workspace_urls.urlpatterns if isinstance(p, URLPattern)]
    assert {p.name for p in patterns} >= {"index", "dashboard", "console", "output", "job"}
    seen = 0
    for pattern in patterns:
        names = set(pattern.pattern.converters)
        given = {k: v for k, v in kwargs_for.items() if k in names}
        candidates = [{**given, "pk": o.pk} for o in outputs] if "pk" in names else [given]
        for kwargs in candidates:
            url = reverse(f"workspace:{pattern.name}", kwargs=kwargs)
            for method in ("get", "post"):
                for extra in ({}, {"HTTP_HX_REQUEST": "true"}):
                    response = getattr(client, method)(url, **extra)
                    seen += 1
                    assert "Content-Disposition" not in response, url
                    assert response.status_code < 500, url
                    if response.status_code in (200, 400):
                        assert response["Content-Type"].startswith("text/html"), url
                    else:
                        assert response.status_code in (302, 405), (url, response.status_code)
    assert seen >= len(patterns) * 4


def test_the_second_factor_is_required(space: Space) -> None:
    client = Client()
    client.force_login(space.member)  # a password sign-in: no second factor in this session
    for url in ("/espaces/", space.url, f"{space.url}console/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(
            (reverse("accounts:mfa_verify"), reverse("accounts:mfa_enrol"))
        ), url
    assert client.post(f"{space.url}console/", {"sql": "SELECT 1"}).status_code == 302
    assert not AuditEvent.objects.filter(action="workspace.query").exists()


def test_a_member_whose_data_is_not_prepared_is_sent_back_to_the_list(db: None) -> None:
    application = create_application_at(State.CONTRACT_SIGNED)
    member = application.created_by
    assert member is not None
    permit = application.permit
    client = client_for(member)
    listing = _page(client.get("/espaces/"))
    assert application.title in listing
    assert f'href="/espaces/ET-{permit.reference}/"' not in listing
    response = client.get(f"/espaces/ET-{permit.reference}/")
    assert response.status_code == 302
    assert response.url == "/espaces/"
    assert not Workspace.objects.filter(permit=permit).exists()
    # Someone else learns nothing, not even that the permit exists.
    assert client_for(researcher()).get(f"/espaces/ET-{permit.reference}/").status_code == 404
