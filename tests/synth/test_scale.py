"""Ten million care lines through ``hdh synth``, with referential integrity checked in DuckDB.

The issue's bar: every care line belongs to a beneficiary, every pharmacy and
biology line to its care line, every PMSI stay's C row to its B row and to a
beneficiary, every date within its person's life.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from django.core.management import call_command

from hdh.synth.snds_care import FLOW_KEY

pytestmark = pytest.mark.slow

CARE_ROWS = 10_000_000


@pytest.fixture(scope="module")
def ten_million(tmp_path_factory, django_db_setup, django_db_blocker) -> Path:
    """``hdh synth snds`` for ten million care lines, run once for this module."""
    out = tmp_path_factory.mktemp("scale") / "snds"
    # The command only reads the catalog (the SNDS shapes, from files when absent).
    with django_db_blocker.unblock():
        call_command(
            "synth", "snds", "--care-rows", str(CARE_ROWS), "--out", str(out), "--seed", "11"
        )
    assert (out.parent / "snds-identite" / "IR_IDENTITE").is_dir()
    return out


def test_ten_million_care_lines_keep_referential_integrity(ten_million):
    counts, found = integrity(ten_million)
    assert counts["ER_PRS_F"] >= CARE_ROWS * 0.97
    assert counts["ER_PRS_F flow keys"] == counts["ER_PRS_F"]
    assert counts["ER_PHA_F"] > 0
    assert counts["T_MCOaaB"] > 0
    assert found == dict.fromkeys(found, 0)


def test_ten_million_care_lines_have_unique_beneficiaries(ten_million):
    # Birth registrations hand out distinct (commune, order) slots (hdh.synth.births).
    counts, _ = integrity(ten_million, rules=False)
    assert counts["IR_BEN_R keys"] == counts["IR_BEN_R"]


def integrity(out: Path, *, rules: bool = True) -> tuple[dict[str, int], dict[str, int]]:
    """Row counts, and the number of rows breaking each rule, of a generated SNDS."""

    def table(name: str) -> str:
        return f"read_parquet('{out / name / '*.parquet'}')"

    con = duckdb.connect()

    def scalar(sql: str) -> int:
        return int(con.execute(sql).fetchall()[0][0])

    key = ", ".join(FLOW_KEY)
    people = table("IR_BEN_R")
    counts = {
        "ER_PRS_F": scalar(f"SELECT count(*) FROM {table('ER_PRS_F')}"),
        "ER_PRS_F flow keys": scalar(f"SELECT count(DISTINCT ({key})) FROM {table('ER_PRS_F')}"),
        "IR_BEN_R": scalar(f"SELECT count(*) FROM {people}"),
        # Children covered through a parent share the parent's BEN_NIR_PSA: the
        # rank (BEN_RNG_GEM) tells them apart.
        "IR_BEN_R keys": scalar(f"SELECT count(DISTINCT (BEN_NIR_PSA, BEN_RNG_GEM)) FROM {people}"),
        "ER_PHA_F": scalar(f"SELECT count(*) FROM {table('ER_PHA_F')}"),
        "T_MCOaaB": scalar(f"SELECT count(*) FROM {table('T_MCOaaB')}"),
    }
    if not rules:
        return counts, {}
    checks = {
        # Every care line's beneficiary exists, and the care lies within that life.
        "ER_PRS_F": f"SELECT count(*) FROM {table('ER_PRS_F')} c LEFT JOIN {people} b "
        "USING (BEN_NIR_PSA, BEN_RNG_GEM) WHERE b.BEN_NIR_PSA IS NULL "
        "OR year(c.EXE_SOI_DTD) < b.BEN_NAI_ANN OR c.EXE_SOI_DTD >= b.BEN_DCD_DTE",
        "ER_PHA_F": f"SELECT count(*) FROM {table('ER_PHA_F')} ANTI JOIN "
        f"{table('ER_PRS_F')} USING ({key})",
        "ER_BIO_F": f"SELECT count(*) FROM {table('ER_BIO_F')} ANTI JOIN "
        f"{table('ER_PRS_F')} USING ({key})",
        "T_MCOaaC without its stay": f"SELECT count(*) FROM {table('T_MCOaaC')} ANTI JOIN "
        f"{table('T_MCOaaB')} USING (ETA_NUM, RSA_NUM)",
        # NIR_ANO_17 names the person without the rank: some beneficiary sharing it
        # must have been alive for the whole stay.
        "T_MCOaaC outside a life": f"SELECT count(*) FROM {table('T_MCOaaC')} c "
        f"WHERE c.SOR_DAT < c.ENT_DAT OR NOT EXISTS (SELECT 1 FROM {people} b "
        "WHERE b.BEN_NIR_PSA = c.NIR_ANO_17 AND year(c.ENT_DAT) >= b.BEN_NAI_ANN "
        "AND c.SOR_DAT <= coalesce(b.BEN_DCD_DTE, DATE '9999-12-31'))",
        "KI_CCI_R": f"SELECT count(*) FROM {table('KI_CCI_R')} d LEFT JOIN {people} b "
        "USING (BEN_IDT_ANO) WHERE b.BEN_DCD_DTE IS DISTINCT FROM d.BEN_DCD_DTE",
    }
    return counts, {name: scalar(sql) for name, sql in checks.items()}


@pytest.mark.django_db
def test_existing_outputs_are_never_overwritten(tmp_path):
    from django.core.management.base import CommandError

    (tmp_path / "snds").mkdir()
    with pytest.raises(CommandError, match="already exists"):
        call_command("synth", "snds", "--beneficiaries", "10", "--out", str(tmp_path / "snds"))
