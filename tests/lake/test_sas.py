"""A real SAS7BDAT file (written by SAS; see data/NOTICE) deposited through the ingest service."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from hdh.catalog.models import Base
from hdh.catalog.services.dictionary import import_tableschema
from hdh.core import lake
from hdh.lake import storage
from hdh.lake.models import DatasetVersion, DepositStatus, VariableProfile
from hdh.lake.services import ingest
from tests.factories.catalog import create_test_base, write_folder

pytestmark = pytest.mark.django_db

IRIS = Path(__file__).parent / "data" / "iris.sas7bdat"
# The file declares Species as $6: SAS stored the names cut at six characters.
SPECIES = ["setosa", "versic", "virgin"]


def _measure(name: str, kind: str = "number") -> dict[str, object]:
    return {"name": name, "type": kind, "constraints": {"minimum": 0, "maximum": 10}}


def _iris_base(root: Path, **wrong: str) -> Base:
    """A base whose catalog declares IRIS as the SAS file has it, unless told otherwise."""
    fields: list[dict[str, object]] = [
        _measure(name, wrong.get(name, "number"))
        for name in ("Sepal_Length", "Sepal_Width", "Petal_Length", "Petal_Width")
    ]
    species: dict[str, object] = {"name": "Species", "type": wrong.get("Species", "string")}
    if "Species" not in wrong:
        species.update(length="6", constraints={"required": True, "enum": SPECIES})
    fields.append(species)
    base = create_test_base()
    import_tableschema(
        directory=write_folder(root, {"IRIS": {"fields": fields}}), base=base, by=None
    )
    base.refresh_from_db()
    return base


def _deposited(tmp_path: Path, name: str = "iris.sas7bdat") -> Path:
    path = tmp_path / "deposit" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(IRIS, path)
    return path


def test_a_real_sas_file_becomes_a_version_with_its_values_and_profiles(tmp_path, producer):
    base = _iris_base(tmp_path / "schema")
    deposit = ingest(base=base, table="IRIS", files=[_deposited(tmp_path)], by=producer)
    assert deposit.status == DepositStatus.ACCEPTED, deposit.report["findings"]
    assert deposit.row_count == 150
    assert deposit.files[0]["format"] == "sas"
    version = DatasetVersion.objects.get(base=base, table_name="IRIS")
    folder = lake.root() / version.path
    assert storage.verify(folder) == []
    (data,) = storage.data_files(folder)
    rows = duckdb.sql(
        f"SELECT Species, count(*), round(avg(Sepal_Length), 3), min(Petal_Width) "
        f"FROM read_parquet('{data}') GROUP BY Species ORDER BY Species"
    ).fetchall()
    # Fisher's iris: 50 flowers per species, the classic means and minima.
    assert rows == [
        ("setosa", 50, 5.006, 0.1),
        ("versic", 50, 5.936, 1.0),
        ("virgin", 50, 6.588, 1.4),
    ]
    described = duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{data}')").fetchall()
    types = {row[0]: row[1] for row in described}
    assert types["Sepal_Length"] == "DOUBLE"
    assert types["Species"] == "VARCHAR"
    species = VariableProfile.objects.get(version=version, variable_name="Species").stats
    assert {item["value"]: item["count"] for item in species["top"]} == dict.fromkeys(SPECIES, 50)


def test_a_sas_file_whose_types_differ_from_the_catalog_is_rejected_and_nothing_appears(
    tmp_path, producer
):
    base = _iris_base(tmp_path / "schema", Species="integer", Sepal_Length="date")
    deposit = ingest(base=base, table="IRIS", files=[_deposited(tmp_path)], by=producer)
    assert deposit.status == DepositStatus.REJECTED
    findings = {(f["rule"], f["column"]): f for f in deposit.report["findings"]}
    assert set(findings) == {("type", "Species"), ("type", "Sepal_Length")}
    assert findings[("type", "Species")]["count"] == 150
    assert findings[("type", "Species")]["examples"][0] == {
        "file": "iris.sas7bdat",
        "row": 1,
        "column": "Species",
        "detail": "",
    }
    assert findings[("type", "Sepal_Length")]["count"] == 150
    assert not DatasetVersion.objects.filter(base=base).exists()
    folder = lake.path(base.slug, "IRIS")
    assert not folder.exists() or list(folder.iterdir()) == []


def test_a_sas_file_deposited_as_another_table_is_a_table_mismatch(tmp_path, producer, base):
    deposit = ingest(base=base, table="PATIENT", files=[_deposited(tmp_path)], by=producer)
    assert deposit.status == DepositStatus.REJECTED
    assert [f["rule"] for f in deposit.report["findings"]] == ["table.mismatch"]
    assert not DatasetVersion.objects.filter(base=base).exists()


@pytest.mark.parametrize("keep", [0.1, 0.6])
def test_a_truncated_sas_file_is_unreadable_and_nothing_appears(tmp_path, producer, keep):
    base = _iris_base(tmp_path / "schema")
    path = _deposited(tmp_path)
    content = path.read_bytes()
    path.write_bytes(content[: int(len(content) * keep)])
    deposit = ingest(base=base, table="IRIS", files=[path], by=producer)
    assert deposit.status == DepositStatus.REJECTED
    assert [f["rule"] for f in deposit.report["findings"]] == ["file.unreadable"]
    assert not DatasetVersion.objects.filter(base=base).exists()


def test_whole_doubles_are_the_integers_booleans_and_codes_sas_stores_them_as(
    tmp_path, producer, base
):
    # SAS has one numeric type, the double: a producer's 1 arrives as 1.0. The
    # same typed columns from a Parquet file take the same path.
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "sejour.parquet"
    pq.write_table(
        pa.table(
            {
                "SEJ_NUM": pa.array([1.0, 2.0, 3.0]),
                "PAT_ID": ["P0000001", "P0000002", "P0000003"],
                "SEJ_DTE": ["01/02/2023", "02/02/2023", "03/02/2023"],
                "SEJ_NBJ": pa.array([3.0, 0.0, None]),
                "SEJ_MNT": pa.array([12.5, 0.0, 7.25]),
                "SEJ_URG": pa.array([1.0, 0.0, None]),
                "SEJ_MOD": pa.array([7.0, 8.0, 9.0]),
            }
        ),
        path,
    )
    deposit = ingest(base=base, table="SEJOUR", files=[path], by=producer)
    assert deposit.status == DepositStatus.ACCEPTED, deposit.report["findings"]
    version = DatasetVersion.objects.get(base=base, table_name="SEJOUR")
    (data,) = storage.data_files(lake.root() / version.path)
    assert duckdb.sql(
        f"SELECT SEJ_NUM, SEJ_NBJ, SEJ_URG, SEJ_MOD FROM read_parquet('{data}') ORDER BY 1"
    ).fetchall() == [(1, 3, True, "7"), (2, 0, False, "8"), (3, None, None, "9")]
    # A fraction is still not an integer.
    path = tmp_path / "fraction.parquet"
    pq.write_table(pa.table({**pq.read_table(data).to_pydict(), "SEJ_NUM": [1.5, 2.0, 3.0]}), path)
    deposit = ingest(base=base, table="SEJOUR", files=[path], by=producer)
    assert deposit.status == DepositStatus.REJECTED
    findings = {(f["rule"], f["column"]): f["count"] for f in deposit.report["findings"]}
    assert findings[("type", "SEJ_NUM")] == 1


def test_a_fraction_in_an_integer_column_of_a_csv_is_a_wrong_type(base, producer, write):
    text = "PAT_ID;PAT_SEX;PAT_NAI_ANN;PAT_DPT\nP0000001;1;1950.5;075\nP0000002;2;1961,0;013\n"
    deposit = ingest(base=base, table="PATIENT", files=[write("p.csv", text)], by=producer)
    assert deposit.status == DepositStatus.REJECTED
    (finding,) = deposit.report["findings"]
    assert (finding["rule"], finding["column"], finding["count"]) == ("type", "PAT_NAI_ANN", 1)
    assert finding["examples"][0]["row"] == 1
