"""The SNDS generator: deterministic, consistent across tables, NIRs valid and kept apart."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pyarrow.parquet as pq
import pytest

from hdh.engines import files
from hdh.synth import nir, snds


def parquet(result: snds.SndsResult, table: str) -> str:
    folder = result.identity if table == snds.IDENTITY.name else result.folder
    return f"read_parquet('{folder / table / 'part-00000.parquet'}')"


def scalar(sql: str) -> object:
    return duckdb.sql(sql).fetchall()[0][0]


def test_the_same_seed_gives_the_same_files_and_another_seed_does_not(tmp_path, shapes):
    def run(name: str, seed: int) -> dict[str, str]:
        spec = snds.SndsSpec(beneficiaries=500, seed=seed, batch=200)
        result = snds.generate(
            spec=spec, out=tmp_path / name, identity_out=tmp_path / f"{name}-id", shapes=shapes
        )
        return {
            table: files.sha256_of(result.folder / table / "part-00000.parquet")
            for table in snds.TABLES
        }

    assert run("a", 1) == run("b", 1)
    assert run("c", 2)["ER_PRS_F"] != run("d", 1)["ER_PRS_F"]


def test_every_table_has_the_catalogued_columns_and_types(small_snds, shapes):
    for table in snds.TABLES:
        schema = pq.read_schema(small_snds.folder / table / "part-00000.parquet")
        assert schema.equals(shapes[table].arrow_schema(), check_metadata=False), table


def test_keys_are_unique_and_every_reference_resolves(small_snds):
    r = small_snds
    key = ", ".join(snds.snds_care.FLOW_KEY)
    assert scalar(f"SELECT count(*) - count(DISTINCT ({key})) FROM {parquet(r, 'ER_PRS_F')}") == 0
    assert (
        scalar(
            "SELECT count(*) - count(DISTINCT (BEN_NIR_PSA, BEN_RNG_GEM)) "
            f"FROM {parquet(r, 'IR_BEN_R')}"
        )
        == 0
    )
    orphans = {
        "ER_PRS_F": f"SELECT count(*) FROM {parquet(r, 'ER_PRS_F')} c ANTI JOIN "
        f"{parquet(r, 'IR_BEN_R')} b USING (BEN_NIR_PSA, BEN_RNG_GEM)",
        "ER_PHA_F": f"SELECT count(*) FROM {parquet(r, 'ER_PHA_F')} ANTI JOIN "
        f"{parquet(r, 'ER_PRS_F')} USING ({key})",
        "ER_BIO_F": f"SELECT count(*) FROM {parquet(r, 'ER_BIO_F')} ANTI JOIN "
        f"{parquet(r, 'ER_PRS_F')} USING ({key})",
        "T_MCOaaC stays": f"SELECT count(*) FROM {parquet(r, 'T_MCOaaC')} ANTI JOIN "
        f"{parquet(r, 'T_MCOaaB')} USING (ETA_NUM, RSA_NUM)",
        "T_MCOaaC people": f"SELECT count(*) FROM {parquet(r, 'T_MCOaaC')} c ANTI JOIN "
        f"{parquet(r, 'IR_BEN_R')} b ON c.NIR_ANO_17 = b.BEN_NIR_PSA",
        "KI_CCI_R": f"SELECT count(*) FROM {parquet(r, 'KI_CCI_R')} ANTI JOIN "
        f"{parquet(r, 'IR_BEN_R')} USING (BEN_IDT_ANO)",
    }
    assert {name: scalar(sql) for name, sql in orphans.items()} == dict.fromkeys(orphans, 0)
    assert r.rows["ER_PHA_F"] > 0
    assert r.rows["ER_BIO_F"] > 0
    assert r.rows["T_MCOaaB"] > 0


def test_dates_agree_across_tables(small_snds):
    r = small_snds
    people = parquet(r, "IR_BEN_R")
    assert (
        scalar(
            f"SELECT count(*) FROM {parquet(r, 'ER_PRS_F')} c JOIN {people} b USING (BEN_NIR_PSA) "
            "WHERE c.EXE_SOI_DTD >= b.BEN_DCD_DTE OR c.FLX_TRT_DTD < c.EXE_SOI_DTD "
            "OR c.FLX_DIS_DTD <= c.FLX_TRT_DTD OR year(c.EXE_SOI_DTD) <> 2023 "
            "OR c.BEN_NAI_ANN <> b.BEN_NAI_ANN"
        )
        == 0
    )
    assert (
        scalar(
            f"SELECT count(*) FROM {parquet(r, 'T_MCOaaC')} c JOIN {people} b "
            "ON c.NIR_ANO_17 = b.BEN_NIR_PSA "
            "WHERE c.SOR_DAT < c.ENT_DAT OR c.SOR_DAT > coalesce(b.BEN_DCD_DTE, DATE '2023-12-31')"
        )
        == 0
    )
    # Everyone who died has one death certificate, on the same date.
    assert (
        scalar(
            f"SELECT count(*) FROM {people} b FULL JOIN {parquet(r, 'KI_CCI_R')} d "
            "USING (BEN_IDT_ANO) "
            "WHERE b.BEN_DCD_DTE IS DISTINCT FROM d.BEN_DCD_DTE"
        )
        == 0
    )
    # Hospital deaths end on the death date.
    assert (
        scalar(
            f"SELECT count(*) FROM {parquet(r, 'T_MCOaaB')} s JOIN {parquet(r, 'T_MCOaaC')} c "
            f"USING (ETA_NUM, RSA_NUM) JOIN {people} b ON c.NIR_ANO_17 = b.BEN_NIR_PSA "
            "WHERE s.SOR_MOD = '9' AND c.SOR_DAT <> b.BEN_DCD_DTE"
        )
        == 0
    )


def test_distributions_are_plausible(small_snds):
    r = small_snds
    people = parquet(r, "IR_BEN_R")
    women = scalar(f"SELECT avg((BEN_SEX_COD = 2)::INT) FROM {people}")
    assert 0.47 < women < 0.56
    per_person = r.rows["ER_PRS_F"] / r.rows["IR_BEN_R"]
    assert 10 < per_person < 25
    assert 0.1 < r.rows["T_MCOaaB"] / r.rows["IR_BEN_R"] < 0.3
    assert 0.003 < r.rows["KI_CCI_R"] / r.rows["IR_BEN_R"] < 0.02
    paris = scalar(f"SELECT avg((BEN_RES_DPT = '075')::INT) FROM {people}")
    assert 0.015 < paris < 0.05
    # Deliveries only for women of child-bearing age.
    assert (
        scalar(
            f"SELECT count(*) FROM {parquet(r, 'T_MCOaaB')} WHERE DGN_PAL = 'O800' "
            "AND (COD_SEX <> '2' OR AGE_ANN < 16)"
        )
        == 0
    )


def test_identity_holds_valid_nirs_that_appear_nowhere_else(small_snds):
    r = small_snds
    identities = duckdb.sql(f"SELECT BEN_NIR FROM {parquet(r, 'IR_IDENTITE')}").fetchall()
    assert len(identities) == 3000
    assert all(nir.is_valid(value) for (value,) in identities)
    duckdb.sql(
        f"CREATE OR REPLACE TEMP TABLE nirs AS SELECT BEN_NIR FROM {parquet(r, 'IR_IDENTITE')}"
    )
    for table in snds.TABLES:
        columns = duckdb.sql(f"DESCRIBE SELECT * FROM {parquet(r, table)}").fetchall()
        for name, kind, *_ in columns:
            if kind == "VARCHAR":
                leaked = scalar(
                    f'SELECT count(*) FROM {parquet(r, table)} t WHERE t."{name}" IN '
                    "(SELECT BEN_NIR FROM nirs UNION SELECT left(BEN_NIR, 13) FROM nirs)"
                )
                assert leaked == 0, f"{table}.{name}"
    # Pseudonyms are letters only: nothing in them can be read as a NIR.
    psa = scalar(
        f"SELECT count(*) FROM {parquet(r, 'IR_BEN_R')} WHERE regexp_matches(BEN_NIR_PSA, '[0-9]')"
    )
    assert psa == 0


@pytest.mark.parametrize(
    ("body", "key"),
    [("1850375056012", 70), ("2011219004345", None), ("2690549588157", 80)],
)
def test_nir_control_key(body, key):
    if key is not None:
        assert nir.control_key(body) == key
    assert nir.control_key(body) == 97 - int(body.replace("2A", "19").replace("2B", "18")) % 97


def test_corsican_nirs_use_the_insee_substitution():
    built = nir.build(
        sex=np.array([2]),
        birth_year=np.array([1969]),
        birth_month=np.array([5]),
        place=np.array(["2B033"]),
        order=np.array([12]),
    )[0]
    assert built[:13] == "269052B033012"
    assert int(built[13:]) == 97 - int("2690518033012") % 97
    assert nir.is_valid(built)


def test_beneficiaries_for_a_target_of_care_rows():
    count = snds.beneficiaries_for(1_000_000)
    assert 40_000 < count < 90_000
    assert snds.SndsSpec(beneficiaries=1).start == dt.date(2023, 1, 1)
