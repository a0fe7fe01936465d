"""The same probabilistic linkage on Spark: Splink's Spark backend on the engine's session."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from hdh.engines.spark import SparkEngine
from hdh.preparation.linkage import link_cohort
from hdh.preparation.linkage.probabilistic import REPORT
from tests.preparation.test_linkage_probabilistic import write_inputs

PEOPLE = 3_000
COHORT = 500


@pytest.fixture(scope="module")
def spark_run(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("linkage-spark")
    people, cohort, truth, _ = write_inputs(folder, PEOPLE, COHORT)
    with SparkEngine() as engine:
        result = link_cohort(
            engine=engine,
            cohort=folder / "cohort.csv",
            identity=engine.dialect.read_parquet([folder / "identity.parquet"]),
            out=folder / "out",
            threshold=0.9,
            truth=dict(zip(truth["record_id"], truth["person_id"], strict=True)),
        )
    return result, people, cohort, truth


def test_spark_links_the_cohort_with_high_precision_and_recall(spark_run) -> None:  # type: ignore[no-untyped-def]
    result, people, cohort, _ = spark_run
    report = json.loads((result.folder / REPORT).read_text())
    assert report["engine"] == "spark"
    at_09 = next(row for row in report["measured"] if row["threshold"] == 0.9)
    assert at_09["precision"] >= 0.99
    assert at_09["recall"] >= 0.95
    links = pq.read_table(result.links).to_pandas()
    assert sorted(links["record_id"]) == sorted(cohort["record_id"])
    assert set(links["person_pseudonym"].dropna()) <= set(people["person_id"])
    assert result.linked == int(links["linked"].sum())
