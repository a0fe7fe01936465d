"""Hostile and malformed cohort files: a clear error naming file and column, nothing written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hdh.engines.duckdb import DuckDBEngine
from hdh.preparation.linkage import CohortInvalid, link_cohort
from hdh.preparation.linkage.cohort import MAX_LINE_BYTES, load

HEADER = "record_id,first_name,surname,birth_date,sex,postcode\n"
GOOD = "R1,Jean,Dupont,1950-03-12,1,75011\n"


@pytest.fixture(scope="module")
def engine() -> Iterator[DuckDBEngine]:
    with DuckDBEngine() as session:
        yield session


@pytest.fixture
def identity(tmp_path: Path) -> str:
    path = tmp_path / "identity.parquet"
    pq.write_table(
        pa.table(
            {
                "BEN_NIR_PSA": ["P1"],
                "BEN_RNG_GEM": [1],
                "BEN_PRENOM": ["JEAN"],
                "BEN_NOM_USAGE": ["DUPONT"],
                "BEN_NOM_NAISSANCE": ["DUPONT"],
                "BEN_NAI_DTE": ["1950-03-12"],
                "BEN_CODE_POSTAL": ["75011"],
                "BEN_SEX_COD": [1],
            }
        ),
        path,
    )
    return f"read_parquet('{path}')"


def write(tmp_path: Path, content: bytes | str, name: str = "cohort.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def refused(engine, path: Path, identity: str, tmp_path: Path) -> CohortInvalid:
    out = tmp_path / "out"
    with pytest.raises(CohortInvalid) as caught:
        link_cohort(engine=engine, cohort=path, identity=identity, out=out)
    assert not out.exists()
    assert not list(tmp_path.glob(".out*")), "no temporary output is left behind"
    assert path.name in str(caught.value)
    assert all(path.name in problem for problem in caught.value.problems)
    return caught.value


@pytest.mark.parametrize(
    ("content", "column", "rule"),
    [
        ("record_id,first_name,birth_date,sex,postcode\nR1,Jean,1950-03-12,1,75011\n",
         "surname", "obligatoire"),
        (HEADER + "R1,Jean,Dupont,12 mars 1950,1,75011\n", "birth_date", "date invalide"),
        (HEADER + "R1,Jean,Dupont,1950-02-30,1,75011\n", "birth_date", "date invalide"),
        (HEADER + "R1,=HYPERLINK(\"http://x\"),Dupont,1950-03-12,1,75011\n",
         "first_name", "formule"),
        (HEADER + "R1,Jean,@SUM(A1),1950-03-12,1,75011\n", "surname", "formule"),
        (HEADER + "R1,Jean,+33 Dupont,1950-03-12,1,75011\n", "surname", "formule"),
        (HEADER + "185057800608436,Jean,Dupont,1950-03-12,1,75011\n", "record_id", "NIR"),
        (HEADER + GOOD + GOOD, "record_id", "double"),
        (HEADER + ",Jean,Dupont,1950-03-12,1,75011\n", "record_id", "vide"),
        (HEADER + "R1,Jean,Dupont,1950-03-12,X,75011\n", "sex", "1, 2"),
        (HEADER + "R1,Jean,Dupont,1950-03-12,1,7501\n", "postcode", "code postal"),
        (HEADER + "R1,Jean," + "D" * 300 + ",1950-03-12,1,75011\n", "surname", "caractères"),
        (HEADER + "R1,Je\x01an,Dupont,1950-03-12,1,75011\n", "first_name", "contrôle"),
    ],
    ids=[
        "missing-column", "not-a-date", "impossible-date", "formula-equals", "formula-at",
        "formula-plus", "nir-as-id", "duplicate-id", "empty-id", "bad-sex", "bad-postcode",
        "long-value", "control-character",
    ],
)  # fmt: skip
def test_a_bad_value_names_the_line_column_and_rule(
    engine, identity, tmp_path, content, column, rule
):
    error = refused(engine, write(tmp_path, content), identity, tmp_path)
    assert any(f"colonne {column}" in p and rule in p for p in error.problems), error.problems


@pytest.mark.parametrize(
    ("content", "name", "expected"),
    [
        (b"", "cohort.csv", "vide"),
        (HEADER.encode(), "cohort.csv", "aucune ligne"),
        (HEADER.encode() + "R1,Hélène,Dupont,1950-03-12,2,75011\n".encode("latin-1"),
         "cohort.csv", "encodage"),
        (HEADER.encode() + b"R1,Jean,Dupont," + b"9" * (MAX_LINE_BYTES + 10) + b",1,75011\n",
         "cohort.csv", "octets"),
        (HEADER.encode() + b"R1,Jean,Dupont,1950-03-12,1\n", "cohort.csv", "illisible"),
        (HEADER.encode() + GOOD.encode(), "cohort.xlsx", "format"),
        (b"PAR1\x00\x00garbage", "cohort.parquet", "illisible"),
    ],
    ids=["empty", "header-only", "latin-1", "huge-line", "ragged-line", "extension", "bad-parquet"],
)  # fmt: skip
def test_a_malformed_file_is_refused_whole(engine, identity, tmp_path, content, name, expected):
    error = refused(engine, write(tmp_path, content, name), identity, tmp_path)
    assert expected in str(error) + " ".join(error.problems)


def test_a_parquet_cohort_missing_a_column_is_refused(engine, identity, tmp_path):
    path = tmp_path / "cohort.parquet"
    pq.write_table(pa.table({"record_id": ["R1"], "first_name": ["JEAN"]}), path)
    error = refused(engine, path, identity, tmp_path)
    assert {p.split("colonne ")[1].split(":")[0] for p in error.problems} == {
        "surname",
        "birth_date",
        "sex",
        "postcode",
    }


def test_problems_are_capped_and_values_are_not_echoed(engine, identity, tmp_path):
    lines = "".join(f"R{i},=cmd|' /C calc'!A0,Dupont,1950-03-12,1,75011\n" for i in range(100))
    error = refused(engine, write(tmp_path, HEADER + lines), identity, tmp_path)
    assert len(error.problems) <= 20
    assert "calc" not in str(error) + " ".join(error.problems)


def test_french_exports_are_read_and_normalised(engine, tmp_path):
    content = (
        "\ufeffrecord_id;first_name;surname;birth_date;sex;postcode;birth_name;other\n"
        "E1;  Hélène ; d'Arc-Lefèvre ;12/03/1950;F;75011;Martin;ignored\n"
        "E2;JEAN;DUPONT;19500312;m;;;\n"
        "E3;;Durand;;;2A004;;\n"
    )
    cohort = load(engine, write(tmp_path, content.encode("utf-8")))
    rows = cohort.table.to_pylist()
    assert rows[0] == {
        "unique_id": "E1",
        "first_name": "HELENE",
        "surname": "D'ARC-LEFEVRE",
        "surname_first": "D'ARC",
        "birth_name": "MARTIN",
        "birth_date": "1950-03-12",
        "birth_year": "1950",
        "postcode": "75011",
        "department": "75",
        "sex": "2",
    }
    assert rows[1]["sex"] == "1"
    assert rows[1]["birth_date"] == "1950-03-12"
    assert rows[1]["postcode"] is None
    assert rows[2]["first_name"] is None
    assert rows[2]["birth_date"] is None
    assert rows[2]["department"] == "2A"
    assert "other" not in cohort.table.column_names


def test_an_existing_output_is_never_overwritten(engine, identity, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep").write_text("kept")
    with pytest.raises(FileExistsError):
        link_cohort(
            engine=engine, cohort=write(tmp_path, HEADER + GOOD), identity=identity, out=out
        )
    assert (out / "keep").read_text() == "kept"


@pytest.mark.parametrize("threshold", [0.0, 1.0, -1, 2])
def test_the_threshold_is_a_probability(engine, identity, tmp_path, threshold):
    with pytest.raises(ValueError, match="threshold"):
        link_cohort(
            engine=engine,
            cohort=write(tmp_path, HEADER + GOOD),
            identity=identity,
            out=tmp_path / "out",
            threshold=threshold,
        )
