"""The lake's API: a permission matrix over every route; unknown and hostile paths;
malformed, accepted and rejected uploads; never any row data."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from hdh.accounts.models import User
from hdh.audit.models import AuditEvent
from hdh.catalog.models import Base
from hdh.catalog.services.dictionary import import_tableschema
from hdh.core.permissions import Role
from hdh.lake.api import router
from hdh.lake.models import DatasetVersion, Deposit, DepositStatus
from hdh.lake.services import ingest
from tests.access.helpers import client_for
from tests.factories.accounts import OrganisationFactory, UserFactory
from tests.factories.catalog import create_test_base
from tests.factories.lake import create_producer
from tests.lake.conftest import lake_folder

pytestmark = pytest.mark.django_db

HEADER = "PAT_ID;PAT_SEX;PAT_NAI_ANN;PAT_DPT\n"
GOOD = HEADER + "".join(f"P{i:07d};{1 + i % 2};{1950 + i % 3};075\n" for i in range(30))
BAD = GOOD.replace("P0000004;1", "P0000004;5")

ACTORS = ("anonymous", "researcher", "other_producer", "holder")
EVERYONE = set(ACTORS)
READERS = {"researcher", "other_producer", "holder"}

# (method, path under /api/lake) → who gets past the permission checks.
MATRIX: dict[tuple[str, str], set[str]] = {
    ("GET", "/bases/{slug}/versions"): READERS,
    ("GET", "/bases/{slug}/tables/{table}/versions/{number}/manifest"): READERS,
    ("GET", "/deposits/{reference}"): {"holder"},
    ("GET", "/profiles/{slug}/{table}/{variable}"): EVERYONE,
    ("POST", "/bases/{slug}/tables/{table}/deposits"): {"holder"},
}


@dataclass
class Lake:
    base: Base
    holder: User
    accepted: Deposit
    rejected: Deposit


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    organisation = OrganisationFactory()
    base = create_test_base(holder_organisation=organisation)
    import_tableschema(directory=lake_folder(tmp_path / "schema"), base=base, by=None)
    base.refresh_from_db()
    holder = create_producer(organisation=organisation)
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "bad.csv").write_text(BAD, encoding="utf-8")
    (folder / "good.csv").write_text(GOOD, encoding="utf-8")
    rejected = ingest(base=base, table="PATIENT", files=[folder / "bad.csv"], by=holder)
    accepted = ingest(base=base, table="PATIENT", files=[folder / "good.csv"], by=holder)
    assert rejected.status == DepositStatus.REJECTED
    assert accepted.status == DepositStatus.ACCEPTED
    return Lake(base=base, holder=holder, accepted=accepted, rejected=rejected)


def files(*uploads: tuple[str, bytes]) -> dict[str, Any]:
    return {"files": [SimpleUploadedFile(name, content) for name, content in uploads]}


def upload(client: Client, slug: str, table: str = "PATIENT", **data: Any) -> Any:
    return client.post(f"/api/lake/bases/{slug}/tables/{table}/deposits", data)


def clients(lake: Lake) -> dict[str, Client]:
    return {
        "anonymous": Client(),
        "researcher": client_for(UserFactory(roles=[Role.RESEARCHER])),
        "other_producer": client_for(create_producer()),
        "holder": client_for(lake.holder),
    }


def test_every_route_is_in_the_matrix() -> None:
    routes = {
        (method, path)
        for path, operations in router.path_operations.items()
        for operation in operations.operations
        for method in operation.methods
    }
    assert routes == set(MATRIX)


def test_permission_matrix(lake: Lake) -> None:
    actors = clients(lake)
    values = {
        "slug": lake.base.slug,
        "table": "PATIENT",
        "number": 1,
        "reference": lake.rejected.reference,
        "variable": "PAT_SEX",
    }
    for (method, path), allowed in MATRIX.items():
        url = "/api/lake" + path.format(**values)
        for actor in ACTORS:
            client = actors[actor]
            if method == "GET":
                response = client.get(url)
            else:
                response = client.post(url, files(("good.csv", GOOD.encode())))
            expected = (200, 201) if actor in allowed else (401, 403)
            assert response.status_code in expected, (path, actor, response.status_code)
    # A retry of the accepted files publishes nothing new.
    assert DatasetVersion.objects.count() == 1


def test_the_depositor_and_colleagues_of_the_holder_read_reports_and_denials_are_audited(
    lake: Lake,
) -> None:
    url = f"/api/lake/deposits/{lake.rejected.reference}"
    colleague = create_producer(organisation=lake.holder.organisation)
    report = client_for(colleague).get(url)
    assert report.status_code == 200
    body = report.json()
    assert body["status"] == "rejected"
    assert body["version"] is None
    assert body["report"]["findings"][0]["rule"] == "code_list"
    stranger = create_producer()
    assert client_for(stranger).get(url).status_code == 403
    assert AuditEvent.objects.filter(
        action="permission.denied", actor_id=str(stranger.pk), details__permission="lake.deposit"
    ).exists()


def test_reads_return_metadata_and_never_row_data(lake: Lake) -> None:
    client = client_for(UserFactory(roles=[Role.RESEARCHER]))
    holder = client_for(lake.holder)
    versions = client.get(f"/api/lake/bases/{lake.base.slug}/versions").json()
    assert versions == [
        {
            "table": "PATIENT",
            "number": 1,
            "row_count": 30,
            "byte_count": versions[0]["byte_count"],
            "manifest_sha256": lake.accepted.version.manifest_sha256,  # type: ignore[union-attr]
            "created_at": versions[0]["created_at"],
        }
    ]
    manifest = client.get(
        f"/api/lake/bases/{lake.base.slug}/tables/PATIENT/versions/1/manifest"
    ).json()
    assert manifest["manifest"]["rows"] == 30
    assert manifest["manifest"]["sources"][0]["name"] == "good.csv"
    profile = Client().get(f"/api/lake/profiles/{lake.base.slug}/PATIENT/PAT_SEX").json()
    assert profile["version"] == 1
    assert {item["count"] for item in profile["top"]} == {15}
    bodies = [
        client.get(f"/api/lake/bases/{lake.base.slug}/versions"),
        client.get(f"/api/lake/bases/{lake.base.slug}/tables/PATIENT/versions/1/manifest"),
        Client().get(f"/api/lake/profiles/{lake.base.slug}/PATIENT/PAT_ID"),
        holder.get(f"/api/lake/deposits/{lake.accepted.reference}"),
        holder.get(f"/api/lake/deposits/{lake.rejected.reference}"),
    ]
    for response in bodies:
        assert response.status_code in (200, 404)
        assert b"P00000" not in response.content


def test_unknown_bases_tables_versions_variables_and_deposits_are_404(lake: Lake) -> None:
    holder = client_for(lake.holder)
    slug = lake.base.slug
    for url in [
        "/api/lake/bases/nope/versions",
        "/api/lake/bases/nope/tables/PATIENT/versions/1/manifest",
        f"/api/lake/bases/{slug}/tables/NOPE/versions/1/manifest",
        f"/api/lake/bases/{slug}/tables/PATIENT/versions/2/manifest",
        f"/api/lake/bases/{slug}/tables/PATIENT/versions/0/manifest",
        "/api/lake/deposits/DEP-NOPE",
        "/api/lake/profiles/nope/PATIENT/PAT_SEX",
        f"/api/lake/profiles/{slug}/NOPE/PAT_SEX",
        f"/api/lake/profiles/{slug}/PATIENT/NOPE",
        f"/api/lake/profiles/{slug}/SEJOUR/SEJ_NUM",
    ]:
        assert holder.get(url).status_code == 404, url
    content = files(("patients.csv", GOOD.encode()))
    assert upload(holder, "nope", **content).status_code == 404
    content = files(("patients.csv", GOOD.encode()))
    assert upload(holder, slug, "NOPE", **content).status_code == 404
    assert Deposit.objects.count() == 2


HOSTILE = [
    "..",
    "%2e%2e",
    "..%2F..%2Fetc",
    "%2Fetc%2Fpasswd",
    "a%00b",
    "x" * 5000,
    "%C3%A9t%C3%A9",
    "'%20OR%201=1--",
    "-1",
    "99999999999999999999999",
]


def test_hostile_path_segments_are_400_404_or_refused(lake: Lake) -> None:
    holder = client_for(lake.holder)
    slug = lake.base.slug
    for segment in HOSTILE:
        for url in [
            f"/api/lake/bases/{segment}/versions",
            f"/api/lake/bases/{slug}/tables/{segment}/versions/1/manifest",
            f"/api/lake/bases/{slug}/tables/PATIENT/versions/{segment}/manifest",
            f"/api/lake/deposits/{segment}",
            f"/api/lake/profiles/{slug}/{segment}/PAT_SEX",
            f"/api/lake/profiles/{slug}/PATIENT/{segment}",
        ]:
            assert holder.get(url).status_code in (400, 404, 422), url
        content = files(("patients.csv", GOOD.encode()))
        assert upload(holder, slug, segment, **content).status_code in (400, 404, 422), segment
    assert Deposit.objects.count() == 2


def test_malformed_uploads_are_refused_and_record_nothing(lake: Lake) -> None:
    holder = client_for(lake.holder)
    for data, problem in [
        ({}, None),
        (files(("patients.csv", b"")), "files: patients.csv"),
        (files(("patients.exe", b"MZ\x90\x00\x03")), "files: patients.exe"),
        (files(("patients", GOOD.encode())), "files: patients"),
        (files(("patients.csv", GOOD.encode()), ("vide.csv", b"")), "files: vide.csv"),
    ]:
        response = upload(holder, lake.base.slug, **data)
        assert response.status_code == 422, response.content
        if problem:
            assert response.json()["problems"] == [problem]
    assert Deposit.objects.count() == 2


def test_oversized_uploads_are_refused(lake: Lake, settings) -> None:  # type: ignore[no-untyped-def]
    settings.HDH_LAKE_UPLOAD_MAX_BYTES = 100
    response = upload(client_for(lake.holder), lake.base.slug, **files(("p.csv", GOOD.encode())))
    assert response.status_code == 422
    assert response.json()["problems"] == ["files"]
    assert Deposit.objects.count() == 2


def test_accepted_and_rejected_uploads(lake: Lake) -> None:
    holder = client_for(lake.holder)
    more = HEADER + "".join(f"Q{i:07d};{1 + i % 2};1960;013\n" for i in range(12))
    accepted = upload(holder, lake.base.slug, **files(("suite.csv", more.encode())))
    assert accepted.status_code == 201, accepted.content
    body = accepted.json()
    assert body["status"] == "accepted"
    assert body["version"] == 2
    assert body["report"]["ok"] is True
    assert body["report"]["files"][0]["name"] == "suite.csv"
    assert b"Q00000" not in accepted.content

    wrong = more.replace("Q0000003;2", "Q0000003;7")
    rejected = upload(holder, lake.base.slug, **files(("suite.csv", wrong.encode())))
    assert rejected.status_code == 422
    body = rejected.json()
    assert body["status"] == "rejected"
    assert body["version"] is None
    assert body["report"]["findings"][0]["rule"] == "code_list"
    assert body["report"]["findings"][0]["examples"][0]["row"] == 4
    assert b"Q00000" not in rejected.content
    assert DatasetVersion.objects.count() == 2
    deposit = Deposit.objects.get(reference=body["reference"])
    assert deposit.created_by == lake.holder
    assert AuditEvent.objects.filter(action="lake.deposit.rejected").count() == 2


def test_uploads_need_the_csrf_token(lake: Lake) -> None:
    client = client_for(lake.holder)
    client.handler.enforce_csrf_checks = True
    refused = upload(client, lake.base.slug, **files(("p.csv", GOOD.encode())))
    assert refused.status_code == 403
    client.get(reverse("lake:deposit"))
    token = client.cookies["csrftoken"].value
    data = files(("p.csv", GOOD.encode()))
    url = f"/api/lake/bases/{lake.base.slug}/tables/PATIENT/deposits"
    assert client.post(url, data, headers={"X-CSRFToken": token}).status_code == 201


def test_the_openapi_schema_lists_the_lake_routes() -> None:
    paths = Client().get("/api/openapi.json").json()["paths"]
    for _method, path in MATRIX:
        assert f"/api/lake{path}" in paths, path
    upload_body = paths["/api/lake/bases/{slug}/tables/{table}/deposits"]["post"]["requestBody"]
    assert "multipart/form-data" in upload_body["content"]
