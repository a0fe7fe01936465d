"""Probabilistic linkage of a corrupted external cohort to generated identities (Splink, DuckDB)."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hdh.engines.duckdb import DuckDBEngine
from hdh.preparation.linkage import LinkageResult, link_cohort
from hdh.preparation.linkage.probabilistic import CHART, LINKS, MODEL, REPORT
from hdh.synth import identity, nir

PEOPLE = 20_000
COHORT = 3_000


@dataclass
class Run:
    result: LinkageResult
    people: pd.DataFrame
    cohort: pd.DataFrame
    truth: pd.DataFrame
    nirs: list[str]
    log: list[str]


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def write_inputs(folder, people_count: int, cohort_size: int):  # type: ignore[no-untyped-def]
    """An IR_IDENTITE-like identity file (NIR included) and a corrupted cohort CSV."""
    people = identity.people(people_count, seed=1)
    birth = people["birth_date"].to_numpy(dtype="datetime64[D]")
    years = birth.astype("datetime64[Y]").astype(int) + 1970
    months = birth.astype("datetime64[M]").astype(int) % 12 + 1
    rng = np.random.default_rng(0)
    nirs = nir.build(
        sex=people["sex"].to_numpy(),
        birth_year=years,
        birth_month=months,
        place=np.array([f"{c:0>5}"[:5] for c in people["commune"]]),
        order=rng.integers(1, 1000, size=people_count),
    )
    # The identity table as IR_IDENTITE holds it, NIR included.
    pq.write_table(
        pa.table(
            {
                "BEN_NIR_PSA": people["person_id"],
                "BEN_RNG_GEM": np.ones(people_count, dtype=np.int64),
                "BEN_NIR": nirs,
                "BEN_PRENOM": people["first_name"],
                "BEN_NOM_USAGE": people["surname"],
                "BEN_NOM_NAISSANCE": people["birth_name"],
                "BEN_NAI_DTE": birth,
                "BEN_CODE_POSTAL": people["postcode"],
                "BEN_SEX_COD": people["sex"],
            }
        ),
        folder / "identity.parquet",
    )
    cohort, truth = identity.external_cohort(people, size=cohort_size, seed=2)
    cohort.to_csv(folder / "cohort.csv", index=False)
    return people, cohort, truth, nirs


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    folder = tmp_path_factory.mktemp("linkage")
    people, cohort, truth, nirs = write_inputs(folder, PEOPLE, COHORT)
    collect = _Collect()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(collect)
    root.setLevel(logging.DEBUG)
    try:
        with DuckDBEngine() as engine:
            result = link_cohort(
                engine=engine,
                cohort=folder / "cohort.csv",
                identity=engine.dialect.read_parquet([folder / "identity.parquet"]),
                out=folder / "out",
                threshold=0.9,
                truth=dict(zip(truth["record_id"], truth["person_id"], strict=True)),
            )
    finally:
        root.removeHandler(collect)
        root.setLevel(previous)
    return Run(result, people, cohort, truth, list(nirs), collect.lines)


def measured(run: Run, threshold: float) -> dict[str, float]:
    rows = run.result.report["measured"]
    return next(row for row in rows if row["threshold"] == threshold)


def test_the_cohort_links_with_high_precision_and_recall(run):
    # Measured on this data set: F1 0.998 at p >= 0.9 (precision 1.0, recall 0.996).
    at_09 = measured(run, 0.9)
    assert at_09["f1"] >= 0.99
    assert at_09["precision"] >= 0.998
    assert measured(run, 0.5)["f1"] >= 0.99
    assert measured(run, 0.99)["f1"] >= 0.98
    assert run.result.linked == at_09["true_positives"] + at_09["false_positives"]


def test_the_model_expects_what_is_measured(run):
    expected = {row["threshold"]: row for row in run.result.report["expected"]}
    for threshold in (0.5, 0.9, 0.99):
        assert expected[threshold]["precision"] == pytest.approx(
            measured(run, threshold)["precision"], abs=0.01
        )
        # Pairs blocking never scored are invisible to the model: an upper bound.
        assert expected[threshold]["recall"] + 0.001 >= measured(run, threshold)["recall"]
        assert expected[threshold]["recall"] - measured(run, threshold)["recall"] < 0.03


def test_links_hold_one_row_per_record_and_only_pseudonyms(run):
    links = pq.read_table(run.result.links).to_pandas()
    assert list(links.columns) == [
        "record_id",
        "person_pseudonym",
        "match_probability",
        "match_weight",
        "linked",
    ]
    assert sorted(links["record_id"]) == sorted(run.cohort["record_id"])
    assert (links["linked"] == links["person_pseudonym"].notna()).all()
    assert (links.loc[links["linked"], "match_probability"] >= 0.9).all()
    assert set(links["person_pseudonym"].dropna()) <= set(run.people["person_id"])
    truth = dict(zip(run.truth["record_id"], run.truth["person_id"], strict=True))
    outsiders = links[links["record_id"].map(truth).isna()]
    assert outsiders["linked"].mean() < 0.01


def test_the_report_describes_the_model(run):
    folder = run.result.folder
    assert sorted(p.name for p in folder.iterdir()) == sorted([LINKS, REPORT, CHART, MODEL])
    report = json.loads((folder / REPORT).read_text())
    assert report["records"] == len(run.cohort)
    assert report["identities"] == PEOPLE
    assert report["comparisons"] > report["records"]
    assert report["engine"] == "duckdb"
    assert report["splink_version"].startswith("5.")
    parameters = report["parameters"]
    assert 0 < parameters["probability_two_random_records_match"] < 1e-3
    assert len(parameters["blocking_rules"]) >= 5
    compared = {row["comparison"] for row in report["m_u"]}
    assert compared == {"first_name", "surname", "birth_date", "postcode", "sex"}
    exact = [r for r in report["m_u"] if r["level"].startswith("Exact match on surname")]
    assert exact[0]["term_frequency"] is True
    assert exact[0]["m"] > 0.5
    assert exact[0]["u"] < 0.01
    swap = next(r for r in report["m_u"] if r["level"] == "Jour et mois inversés")
    assert swap["match_weight"] > 5
    chart = json.loads((folder / CHART).read_text())
    assert "vega-lite" in chart["$schema"]
    assert chart["data"]["values"]
    model = json.loads((folder / MODEL).read_text())
    assert model["link_type"] == "link_only"


def test_no_name_birth_date_or_nir_in_the_output_or_the_logs(run):
    folder = run.result.folder
    texts = [p.read_text(encoding="utf-8") for p in folder.glob("*.json")]
    texts.append(json.dumps(pq.read_table(folder / LINKS).to_pylist(), default=str))
    texts.append("\n".join(run.log))
    blob = "\n".join(texts)
    runs = re.findall(r"[0-9AB]{15,}", blob)
    windows = {digits[i : i + 15] for digits in runs for i in range(len(digits) - 14)}
    assert not set(run.nirs) & windows
    linked = run.people[run.people["person_id"].isin(run.truth["person_id"])]
    rare_names = {n for n in linked["surname"] if len(n) >= 7 and " " not in n}
    words = set(re.findall(r"[A-Z][A-Z'-]{6,}", blob))
    assert not rare_names & words
    birth_dates = {str(d)[:10] for d in linked["birth_date"]}
    assert not birth_dates & set(re.findall(r"\d{4}-\d{2}-\d{2}", blob))
    cohort_names = {str(v) for v in run.cohort["surname"].dropna() if len(str(v)) >= 7}
    assert not cohort_names & set(re.findall(r"[A-Za-zé][A-Za-zé' -]{6,}", blob))


def test_a_cohort_links_to_the_generated_snds_identities(tmp_path):
    """The synthetic SNDS's IR_IDENTITE, as generated, with the default column names."""
    from hdh.synth import snds
    from hdh.synth.schema import snds_shapes_from_files

    generated = snds.generate(
        spec=snds.SndsSpec(beneficiaries=2_000, seed=5),
        out=tmp_path / "snds",
        identity_out=tmp_path / "identity",
        shapes=snds_shapes_from_files(snds.TABLES),
        level1_key=b"linkage-test-key-0123456789abcdef",
    )
    identities = generated.identity / "IR_IDENTITE" / "part-00000.parquet"
    frame = pq.read_table(identities).to_pandas()
    residence = pq.read_table(
        generated.folder / "IR_BEN_R" / "part-00000.parquet",
        columns=["BEN_NIR_PSA", "BEN_RES_DPT"],
    ).to_pandas()
    frame = frame.merge(residence, on="BEN_NIR_PSA").rename(
        columns={
            "BEN_NIR_PSA": "person_id",
            "BEN_SEX_COD": "sex",
            "BEN_RES_DPT": "department",
            "BEN_PRENOM": "first_name",
            "BEN_NOM_USAGE": "surname",
            "BEN_NOM_NAISSANCE": "birth_name",
            "BEN_NAI_DTE": "birth_date",
            "BEN_CODE_POSTAL": "postcode",
        }
    )
    cohort, truth = identity.external_cohort(frame, size=400, seed=3)
    cohort.to_csv(tmp_path / "cohort.csv", index=False)
    with DuckDBEngine() as engine:
        result = link_cohort(
            engine=engine,
            cohort=tmp_path / "cohort.csv",
            identity=engine.dialect.read_parquet([identities]),
            out=tmp_path / "out",
            truth=dict(zip(truth["record_id"], truth["person_id"], strict=True)),
        )
    at_09 = next(row for row in result.report["measured"] if row["threshold"] == 0.9)
    assert at_09["f1"] >= 0.98  # measured 0.999 (400 records)
    links = pq.read_table(result.links).to_pandas()
    assert set(links["person_pseudonym"].dropna()) <= set(frame["person_id"])
    blob = (result.folder / "report.json").read_text() + links.to_json()
    assert not any(value in blob for value in frame["BEN_NIR"])
