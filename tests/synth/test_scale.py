"""A million care lines through ``hdh synth``, with referential integrity checked in DuckDB."""

from __future__ import annotations

import duckdb
import pytest
from django.core.management import call_command

from hdh.synth.snds_care import FLOW_KEY

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_a_million_care_lines_keep_referential_integrity(tmp_path, capsys):
    out = tmp_path / "snds"
    call_command("synth", "snds", "--care-rows", "1000000", "--out", str(out), "--seed", "11")
    assert "keep them apart" in capsys.readouterr().out
    assert (tmp_path / "snds-identite" / "IR_IDENTITE").is_dir()

    def table(name: str) -> str:
        return f"read_parquet('{out / name / 'part-00000.parquet'}')"

    con = duckdb.connect()
    key = ", ".join(FLOW_KEY)
    (rows, distinct_keys, orphans) = con.execute(
        f"SELECT count(*), count(DISTINCT ({key})), "
        f"count(*) FILTER (WHERE b.BEN_NIR_PSA IS NULL) "
        f"FROM {table('ER_PRS_F')} c LEFT JOIN {table('IR_BEN_R')} b "
        "USING (BEN_NIR_PSA, BEN_RNG_GEM)"
    ).fetchall()[0]
    assert rows >= 1_000_000 * 0.97
    assert distinct_keys == rows
    assert orphans == 0
    for detail in ("ER_PHA_F", "ER_BIO_F"):
        missing = con.execute(
            f"SELECT count(*) FROM {table(detail)} ANTI JOIN {table('ER_PRS_F')} USING ({key})"
        ).fetchall()[0][0]
        assert missing == 0, detail


def test_existing_outputs_are_never_overwritten(tmp_path):
    from django.core.management.base import CommandError

    (tmp_path / "snds").mkdir()
    with pytest.raises(CommandError, match="already exists"):
        call_command("synth", "snds", "--beneficiaries", "10", "--out", str(tmp_path / "snds"))
