"""Bad input gets a clear report (file, row, column, rule) and nothing visible changes."""

from __future__ import annotations

import json

import pandas as pd
import pyreadstat
import pytest

from hdh.audit.models import AuditEvent
from hdh.core import lake
from hdh.lake.models import DatasetVersion, DepositStatus
from hdh.lake.services import ingest

pytestmark = pytest.mark.django_db

HEADER = "PAT_ID;PAT_SEX;PAT_NAI_ANN;PAT_DPT\n"
GOOD = HEADER + "P0000001;1;1950;075\nP0000002;2;1961;013\n"


def rejected(base, producer, path, table="PATIENT"):
    deposit = ingest(base=base, table=table, files=[path], by=producer)
    assert deposit.status == DepositStatus.REJECTED
    assert not DatasetVersion.objects.filter(table_name=table).exists()
    folder = lake.path(base.slug, table)
    assert not folder.exists() or list(folder.iterdir()) == []
    return {(f["rule"], f["column"]): f for f in deposit.report["findings"]}


def test_schema_violations_are_counted_per_rule_with_examples(base, producer, write):
    text = HEADER + (
        "P0000001;1;1950;075\n"
        "P0000001;2;19x1;013\n"  # duplicate key, bad year
        "P000000003;5;1970;0131\n"  # too long id and department, unknown code
        ";1;1980;075\n"  # missing key
    )
    findings = rejected(base, producer, write("p.csv", text))
    assert findings[("type", "PAT_NAI_ANN")]["examples"][0] == {
        "file": "p.csv",
        "row": 2,
        "column": "PAT_NAI_ANN",
        "detail": "",
    }
    assert findings[("length", "PAT_ID")]["count"] == 1
    assert findings[("length", "PAT_DPT")]["examples"][0]["row"] == 3
    assert findings[("code_list", "PAT_SEX")]["count"] == 1
    assert findings[("required", "PAT_ID")]["examples"][0]["row"] == 4
    assert findings[("primary_key", "PAT_ID")]["count"] == 2
    # The report never repeats a value.
    assert "19x1" not in json.dumps([f for f in findings.values()])


def test_constraints_enum_date_and_boolean(base, producer, write):
    ingest(base=base, table="PATIENT", files=[write("p.csv", GOOD)], by=producer)
    stays = "SEJ_NUM;PAT_ID;SEJ_DTE;SEJ_NBJ;SEJ_MNT;SEJ_URG;SEJ_MOD\n" + (
        "1;P0000001;31/02/2023;400;abc;peut-être;5\n"
    )
    findings = rejected(base, producer, write("s.csv", stays), table="SEJOUR")
    rules = {rule for rule, _ in findings}
    assert {"type", "maximum", "enum"} <= rules
    assert {column for rule, column in findings if rule == "type"} == {
        "SEJ_DTE",
        "SEJ_MNT",
        "SEJ_URG",
    }


def test_malformed_csv_names_the_row(base, producer, write):
    text = GOOD + 'P0000003;1;"1970;075\nP0000004;1;1970;075\n'
    findings = rejected(base, producer, write("p.csv", text))
    assert ("csv.malformed", None) in findings
    ragged = GOOD + "P0000003;1;1970;075;en trop\n"
    findings = rejected(base, producer, write("r.csv", ragged))
    assert findings[("csv.malformed", None)]["examples"][0]["row"] == 3


def test_an_enormous_line_is_refused(base, producer, write):
    text = GOOD + "P0000003;1;1970;" + "0" * (2 * 1024 * 1024) + "\n"
    findings = rejected(base, producer, write("p.csv", text))
    assert ("csv.line_too_long", None) in findings


def test_wrong_encoding_midway_is_refused(base, producer, write):
    # UTF-8 at the start, then a Latin-1 byte far beyond the sample that chose UTF-8.
    filler = "".join(f"P{i:07d};1;1970;075\n" for i in range(3, 20000))
    content = (GOOD + filler).encode("utf-8") + "PÉ000001;1;1970;075\n".encode("latin-1")
    findings = rejected(base, producer, write("p.csv", content))
    assert ("file.encoding", None) in findings


def test_binary_garbage_and_truncated_parquet(base, producer, write, tmp_path):
    findings = rejected(base, producer, write("p.bin", b"\x00\x01\x02garbage\x00" * 100))
    assert ("file.format", None) in findings
    good = ingest(base=base, table="PATIENT", files=[write("p.csv", GOOD)], by=producer)
    parquet = (lake.root() / good.version.path / "data-00000.parquet").read_bytes()
    truncated = write("t.parquet", parquet[: len(parquet) // 2])
    deposit = ingest(base=base, table="PATIENT", files=[truncated], by=producer)
    assert deposit.status == DepositStatus.REJECTED
    assert deposit.report["findings"][0]["rule"] == "file.unreadable"
    assert DatasetVersion.objects.count() == 1


def test_a_file_deposited_as_the_wrong_table(base, producer, write):
    stays = (
        "SEJ_NUM;PAT_ID;SEJ_DTE;SEJ_NBJ;SEJ_MNT;SEJ_URG;SEJ_MOD\n1;P0000001;03/02/2023;2;1;1;8\n"
    )
    findings = rejected(base, producer, write("s.csv", stays))
    assert ("table.mismatch", None) in findings


def test_missing_and_unknown_columns(base, producer, write):
    text = "PAT_ID;PAT_SEX;PAT_NAI_ANN;AUTRE\nP0000001;1;1950;x\n"
    findings = rejected(base, producer, write("p.csv", text))
    assert ("column.missing", "PAT_DPT") in findings
    assert ("column.unknown", "AUTRE") in findings


def test_stata_files_and_wrong_types(base, producer, tmp_path):
    frame = pd.DataFrame(
        {
            "PAT_ID": ["P0000001", "P0000002"],
            "PAT_SEX": [1.0, 2.0],
            "PAT_NAI_ANN": [1950.0, 1961.0],
            "PAT_DPT": ["075", "013"],
        }
    )
    stata = tmp_path / "p.dta"
    pyreadstat.write_dta(frame, str(stata))
    deposit = ingest(base=base, table="PATIENT", files=[stata], by=producer)
    assert deposit.status == DepositStatus.ACCEPTED, deposit.report
    wrong = tmp_path / "w.dta"
    pyreadstat.write_dta(frame.assign(PAT_NAI_ANN=["mille", "1961"]), str(wrong))
    findings = rejected_as_version_2(base, producer, wrong)
    assert findings[("type", "PAT_NAI_ANN")]["examples"][0]["row"] == 1


def test_a_file_that_is_not_sas_is_reported_unreadable(base, producer, write):
    # Real SAS7BDAT files, valid and truncated, are deposited in test_sas.py.
    findings = rejected(base, producer, write("p.sas7bdat", b"SAS FILE" + b"x" * 2000))
    assert ("file.unreadable", None) in findings


def rejected_as_version_2(base, producer, path):
    deposit = ingest(base=base, table="PATIENT", files=[path], by=producer)
    assert deposit.status == DepositStatus.REJECTED
    assert DatasetVersion.objects.filter(table_name="PATIENT").count() == 1
    return {(f["rule"], f["column"]): f for f in deposit.report["findings"]}


def test_a_rejection_is_audited_with_counts_only(base, producer, write):
    rejected(base, producer, write("p.csv", HEADER + "P0000001;7;1950;075\n"))
    event = AuditEvent.objects.get(action="lake.deposit.rejected")
    assert event.details["violations"] == {"code_list": 1}
    assert "P0000001" not in json.dumps(event.details)
