"""``hdh lake`` and ``hdh synth tables`` from the command line."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from hdh.lake.models import DatasetVersion

pytestmark = pytest.mark.django_db

GOOD = "PAT_ID;PAT_SEX;PAT_NAI_ANN;PAT_DPT\nP0000001;1;1950;075\n"


def test_lake_ingest_accepts_then_lists_and_rejects_with_a_report(base, producer, write, capsys):
    path = write("p.csv", GOOD)
    call_command(
        "lake",
        "ingest",
        "--base",
        base.slug,
        "--table",
        "PATIENT",
        "--as",
        producer.username,
        str(path),
    )
    assert "accepted, PATIENT v1, 1 rows" in capsys.readouterr().out
    call_command("lake", "versions", "--base", base.slug)
    assert "PATIENT v1: 1 rows" in capsys.readouterr().out
    bad = write("q.csv", GOOD.replace(";1;", ";4;"))
    with pytest.raises(CommandError, match="rejected"):
        call_command(
            "lake",
            "ingest",
            "--base",
            base.slug,
            "--table",
            "PATIENT",
            "--as",
            producer.username,
            str(bad),
        )
    assert "code_list [PAT_SEX] × 1" in capsys.readouterr().err
    assert DatasetVersion.objects.count() == 1


def test_lake_ingest_refuses_unknown_things(base, producer, write):
    path = write("p.csv", GOOD)
    with pytest.raises(CommandError, match="no base"):
        call_command(
            "lake",
            "ingest",
            "--base",
            "nope",
            "--table",
            "PATIENT",
            "--as",
            producer.username,
            str(path),
        )
    with pytest.raises(CommandError, match="not in the catalog"):
        call_command(
            "lake",
            "ingest",
            "--base",
            base.slug,
            "--table",
            "NOPE",
            "--as",
            producer.username,
            str(path),
        )


def test_synth_tables_makes_deposit_ready_data(base, producer, tmp_path, capsys):
    out = tmp_path / "synthetic"
    call_command("synth", "tables", "--base", base.slug, "--rows", "50", "--out", str(out))
    assert "PATIENT: 50 rows" in capsys.readouterr().out
    for table in ("PATIENT", "SEJOUR"):
        call_command(
            "lake",
            "ingest",
            "--base",
            base.slug,
            "--table",
            table,
            "--as",
            producer.username,
            str(out / table / "part-00000.parquet"),
        )
    assert DatasetVersion.objects.count() == 2
