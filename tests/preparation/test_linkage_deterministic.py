"""Deterministic linkage across SNDS tables on pseudonyms, on every engine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hdh.engines import Engine, available, get_engine
from hdh.preparation.linkage import coverage, join_sql
from hdh.synth import snds
from hdh.synth.schema import snds_shapes_from_files


@pytest.fixture(params=available())
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """Every registered engine: the dialect-sensitive SQL runs on each."""
    with get_engine(request.param) as session:
        yield session


@pytest.fixture
def duckdb() -> Iterator[Engine]:
    # The generated-SNDS checks are about the data, not the dialect: one engine.
    with get_engine("duckdb") as session:
        yield session


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> snds.SndsResult:
    root: Path = tmp_path_factory.mktemp("snds-linkage")
    spec = snds.SndsSpec(beneficiaries=1500, seed=11, batch=500)
    return snds.generate(
        spec=spec,
        out=root / "out",
        identity_out=root / "id",
        shapes=snds_shapes_from_files(snds.TABLES),
    )


def table(engine: Engine, result: snds.SndsResult, name: str) -> str:
    return engine.dialect.read_parquet([result.folder / name / "part-00000.parquet"])


def test_every_care_line_and_hospital_stay_links_to_a_beneficiary(duckdb, generated):
    engine = duckdb
    beneficiaries = table(engine, generated, "IR_BEN_R")
    care = coverage(
        engine,
        table(engine, generated, "ER_PRS_F"),
        beneficiaries,
        on=("BEN_NIR_PSA", "BEN_RNG_GEM"),
    )
    assert care.left_rows == care.left_linked_rows > 0
    assert care.left_person_share == 1.0
    assert care.right_persons == 1500
    assert 0.5 < care.right_person_share <= 1.0

    stays = coverage(
        engine,
        table(engine, generated, "T_MCOaaC"),
        beneficiaries,
        on="NIR_ANO_17",
        right_on="BEN_NIR_PSA",
    )
    assert stays.left_rows == stays.left_linked_rows
    assert stays.linked_persons == stays.left_persons > 0
    assert stays.as_dict()["left_person_share"] == 1.0


def test_join_sql_links_rows_on_the_keys(duckdb, generated):
    engine = duckdb
    sql = join_sql(
        engine,
        table(engine, generated, "ER_PRS_F"),
        table(engine, generated, "IR_BEN_R"),
        on=("BEN_NIR_PSA", "BEN_RNG_GEM"),
        left_columns=["BEN_NIR_PSA", "PRS_NAT_REF"],
        right_columns=["BEN_SEX_COD"],
    )
    rows = engine.fetch(f"SELECT count(*), count(BEN_SEX_COD) FROM ({sql}) j")[0]
    assert rows[0] == rows[1] == engine.count(table(engine, generated, "ER_PRS_F"))


@pytest.fixture
def small_tables(tmp_path: Path, engine: Engine) -> tuple[str, str]:
    left = pa.table({"person": ["A", "A", "B", None, "C"], "value": [1, 2, 3, 4, 5]})
    # The right side stores the same key as text of another case and one number.
    right = pa.table({"id": ["A", "B", "D", None], "n": [10, 20, 30, 40]})
    pq.write_table(left, tmp_path / "left.parquet")
    pq.write_table(right, tmp_path / "right.parquet")
    return (
        engine.dialect.read_parquet([tmp_path / "left.parquet"]),
        engine.dialect.read_parquet([tmp_path / "right.parquet"]),
    )


def test_null_keys_never_link_and_counts_are_per_person(engine, small_tables):
    left, right = small_tables
    result = coverage(engine, left, right, on="person", right_on="id")
    assert (result.left_rows, result.right_rows) == (5, 4)
    assert (result.left_persons, result.right_persons, result.linked_persons) == (3, 3, 2)
    assert (result.left_linked_rows, result.right_linked_rows) == (3, 2)
    inner = engine.fetch(
        f"SELECT count(*) FROM ({join_sql(engine, left, right, on='person', right_on='id')}) j"
    )
    full = join_sql(engine, left, right, on="person", right_on="id", how="full")
    assert inner[0][0] == 3
    assert engine.fetch(f"SELECT count(*) FROM ({full}) j")[0][0] == 3 + 2 + 2


def test_bad_join_arguments_are_refused(engine, small_tables):
    left, right = small_tables
    with pytest.raises(ValueError, match="join"):
        join_sql(engine, left, right, on="person", right_on="id", how="cross")
    with pytest.raises(ValueError, match="key columns"):
        coverage(engine, left, right, on=("person", "value"), right_on="id")
    with pytest.raises(ValueError, match="key columns"):
        coverage(engine, left, right, on=())
