"""Depositing good data: a version appears, immutable, with its manifest, profile and audit."""

from __future__ import annotations

import json

import duckdb
import pytest

from hdh.audit.models import AuditEvent
from hdh.core import lake
from hdh.core.errors import NotAllowed, ValidationFailed
from hdh.engines import files
from hdh.lake import storage
from hdh.lake.models import DatasetVersion, Deposit, DepositStatus, VariableProfile
from hdh.lake.services import ingest
from tests.factories.accounts import UserFactory
from tests.factories.lake import create_producer

pytestmark = pytest.mark.django_db

PATIENTS = "PAT_ID;PAT_SEX;PAT_NAI_ANN;PAT_DPT\n" + "".join(
    f"P{i:07d};{1 + i % 2};{1950 + 10 * (i % 3) + (i == 0) * 40};0{75 + i % 3}\n" for i in range(40)
)


def test_a_valid_csv_becomes_version_1_with_manifest_and_checksums(base, producer, write):
    deposit = ingest(
        base=base, table="PATIENT", files=[write("patients.csv", PATIENTS)], by=producer
    )
    assert deposit.status == DepositStatus.ACCEPTED, deposit.report
    version = deposit.version
    assert version is not None
    assert version.number == 1
    assert version.row_count == 40
    folder = lake.root() / version.path
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["rows"] == 40
    assert manifest["sources"][0]["name"] == "patients.csv"
    assert manifest["sources"][0]["delimiter"] == ";"
    assert storage.verify(folder) == []
    assert version.manifest_sha256 == files.sha256_of(folder / "manifest.json")
    described = duckdb.sql(f"DESCRIBE SELECT * FROM '{folder}/data-00000.parquet'").fetchall()
    types = {row[0]: row[1] for row in described}
    assert types == {
        "PAT_ID": "VARCHAR",
        "PAT_SEX": "BIGINT",
        "PAT_NAI_ANN": "INTEGER",
        "PAT_DPT": "VARCHAR",
    }
    # No staging folder is left behind.
    assert sorted(p.name for p in folder.parent.iterdir()) == ["v0001"]


def test_the_audit_event_names_the_version_without_data(base, producer, write):
    deposit = ingest(base=base, table="PATIENT", files=[write("p.csv", PATIENTS)], by=producer)
    event = AuditEvent.objects.get(action="lake.version.created")
    assert event.target_id == str(deposit.version.pk)
    assert event.details["rows"] == 40
    assert "P0000001" not in json.dumps(event.details)


def test_a_second_deposit_is_version_2_and_a_retry_changes_nothing(base, producer, write):
    first = write("p.csv", PATIENTS)
    ingest(base=base, table="PATIENT", files=[first], by=producer)
    again = ingest(base=base, table="PATIENT", files=[first], by=producer)
    assert again.version.number == 1
    assert DatasetVersion.objects.count() == 1
    changed = write("p2.csv", PATIENTS.replace("P0000001;2", "P0000001;1"))
    assert ingest(base=base, table="PATIENT", files=[changed], by=producer).version.number == 2


def test_foreign_keys_are_checked_against_the_deposited_parent(base, producer, write):
    ingest(base=base, table="PATIENT", files=[write("p.csv", PATIENTS)], by=producer)
    stays = "SEJ_NUM;PAT_ID;SEJ_DTE;SEJ_NBJ;SEJ_MNT;SEJ_URG;SEJ_MOD\n" + (
        "1;P0000001;03/02/2023;2;1234,5;1;8\n2;P0000002;04/02/2023;0;10.0;0;9\n"
    )
    deposit = ingest(base=base, table="SEJOUR", files=[write("s.csv", stays)], by=producer)
    assert deposit.status == DepositStatus.ACCEPTED, deposit.report
    orphan = stays.replace("2;P0000002", "2;P9999999")
    rejected = ingest(base=base, table="SEJOUR", files=[write("s2.csv", orphan)], by=producer)
    assert [(f["rule"], f["count"]) for f in rejected.report["findings"]] == [("foreign_key", 1)]
    assert rejected.report["findings"][0]["examples"][0]["row"] == 2


def test_several_files_make_one_version(base, producer, write):
    lines = PATIENTS.splitlines(keepends=True)
    head, rows = lines[0], lines[1:]
    one = write("a.csv", head + "".join(rows[:20]))
    two = write("b.csv", (head + "".join(rows[20:])).replace(";", ","))
    deposit = ingest(base=base, table="PATIENT", files=[one, two], by=producer)
    assert deposit.status == DepositStatus.ACCEPTED, deposit.report
    assert deposit.version.row_count == 40


def test_parquet_and_latin1_csv_are_accepted(base, producer, write, tmp_path):
    latin = write("p.csv", PATIENTS.replace("P0000003", "PÉ000003"), encoding="cp1252")
    deposit = ingest(base=base, table="PATIENT", files=[latin], by=producer)
    assert deposit.status == DepositStatus.ACCEPTED, deposit.report
    assert deposit.files[0]["encoding"] in {"cp1252", "windows-1252", "latin_1", "iso8859_15"}
    parquet = tmp_path / "p.parquet"
    folder = lake.root() / deposit.version.path
    duckdb.sql(
        f"COPY (SELECT * FROM '{folder}/data-00000.parquet') TO '{parquet}' (FORMAT parquet)"
    )
    again = ingest(base=base, table="PATIENT", files=[parquet], by=producer)
    assert again.status == DepositStatus.ACCEPTED, again.report


def test_profiles_hide_small_counts(base, producer, write, settings):
    settings.HDH_SMALL_COUNT_THRESHOLD = 11
    deposit = ingest(base=base, table="PATIENT", files=[write("p.csv", PATIENTS)], by=producer)
    profiles = {
        p.variable_name: p.stats for p in VariableProfile.objects.filter(version=deposit.version)
    }
    sex = profiles["PAT_SEX"]
    assert sex["rows"] == 40
    assert sex["completeness"] == 1.0
    assert sex["distinct"] is None  # 2 distinct values: a count under 11
    assert sex["top"] == [{"value": "1", "count": 20}, {"value": "2", "count": 20}]
    # One person was born in 2000: the published range stops at years held by 11+.
    births = profiles["PAT_NAI_ANN"]
    assert (births["minimum"], births["maximum"]) == ("1950", "1970")
    assert all(cell["count"] in (None, 0) or cell["count"] >= 11 for cell in births["histogram"])
    # The pseudonym column shows completeness only.
    assert profiles["PAT_ID"]["identifier"] is True
    assert "top" not in profiles["PAT_ID"]
    departments = profiles["PAT_DPT"]["top"]
    assert {d["value"] for d in departments} == {"075", "076", "077"}
    assert all(d["count"] >= 11 for d in departments)


def test_only_producers_of_the_holder_organisation_deposit(base, write):
    researcher = UserFactory()
    with pytest.raises(NotAllowed):
        ingest(base=base, table="PATIENT", files=[write("p.csv", PATIENTS)], by=researcher)
    producer = create_producer()
    base.holder_organisation = UserFactory().organisation
    Base = type(base)
    Base.objects.filter(pk=base.pk).update(holder_organisation=base.holder_organisation)
    with pytest.raises(NotAllowed):
        ingest(base=base, table="PATIENT", files=[write("p.csv", PATIENTS)], by=producer)
    assert not Deposit.objects.exists()
    assert AuditEvent.objects.filter(action="permission.denied").count() == 2


def test_a_table_the_catalog_does_not_describe_is_refused(base, producer, write):
    with pytest.raises(ValidationFailed):
        ingest(base=base, table="INCONNUE", files=[write("p.csv", PATIENTS)], by=producer)


def test_a_failing_audit_write_leaves_no_version(base, producer, write, monkeypatch):
    from hdh.audit import services as audit

    def broken(**kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(audit, "record", broken)
    with pytest.raises(RuntimeError):
        ingest(base=base, table="PATIENT", files=[write("p.csv", PATIENTS)], by=producer)
    assert not DatasetVersion.objects.exists()
    table_folder = lake.path(base.slug, "PATIENT")
    assert not table_folder.exists() or list(table_folder.iterdir()) == []
