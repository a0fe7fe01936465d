# SQL here is built from column names quoted by the engine's dialect, from
# table names this module generates and from numbers; no data value is spliced in.
# ruff: noqa: S608
"""Probabilistic linkage of an external cohort to the beneficiaries' identities, with Splink.

The cohort file is checked and normalised first (:mod:`.cohort`); the identity
table is read where it lies, on the same engine. Splink runs on that engine's
own connection (DuckDB) or session (Spark), so identities never leave it.

The output folder appears only when complete and holds:

* ``links.parquet`` — one row per cohort record: ``record_id``, the linked
  beneficiary's pseudonym (or null), ``match_probability``, ``match_weight``;
* ``report.json`` — the quality report (parameters, m/u table, expected and,
  when the truth is known, measured precision and recall);
* ``match_weights_chart.vl.json`` — Splink's match-weight chart (Vega-Lite);
* ``model.json`` — the trained Splink model, reusable without retraining.

No name, birth date or NIR is written to the output or to a log.
"""

from __future__ import annotations

import json
import logging
import math
import time
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hdh.core import clock
from hdh.engines import files
from hdh.engines.base import Engine
from hdh.preparation.linkage import cohort as cohorts
from hdh.preparation.linkage import model, quality

logger = logging.getLogger(__name__)

LINKS = "links.parquet"
REPORT = "report.json"
CHART = "match_weights_chart.vl.json"
MODEL = "model.json"


@dataclass(frozen=True)
class IdentityColumns:
    """Where each attribute lies in the identity table (defaults: the synthetic IR_IDENTITE).

    The identity table is expected in administrative form: names in upper case
    without accents.
    """

    person: str = "BEN_NIR_PSA"
    rank: str | None = "BEN_RNG_GEM"
    first_name: str = "BEN_PRENOM"
    surname: str = "BEN_NOM_USAGE"
    birth_name: str | None = "BEN_NOM_NAISSANCE"
    birth_date: str = "BEN_NAI_DTE"
    postcode: str = "BEN_CODE_POSTAL"
    sex: str = "BEN_SEX_COD"


@dataclass
class LinkageResult:
    folder: Path
    records: int
    identities: int
    comparisons: int
    linked: int
    threshold: float
    seconds: dict[str, float] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def links(self) -> Path:
        return self.folder / LINKS


def link_cohort(
    *,
    engine: Engine,
    cohort: Path,
    identity: str,
    out: Path,
    columns: IdentityColumns | None = None,
    threshold: float = 0.9,
    options: model.TrainingOptions | None = None,
    truth: Mapping[str, str | None] | None = None,
) -> LinkageResult:
    """Link the cohort file at ``cohort`` to ``identity`` (a FROM-clause relation).

    Each cohort record gets at most one beneficiary: its best-scoring pair, if
    that pair's match probability is at least ``threshold``. ``truth`` (record
    id -> true pseudonym or None), when given, adds measured precision, recall
    and F1 to the report. Raises :class:`~.cohort.CohortInvalid` before
    anything is written if the cohort is malformed.
    """
    if not 0.0 < threshold < 1.0:
        raise ValueError("threshold must lie strictly between 0 and 1")
    columns = columns or IdentityColumns()
    options = options or model.TrainingOptions()
    out = Path(out)
    if out.exists():
        raise FileExistsError(f"{out} already exists; a linkage output is never overwritten")
    started = time.perf_counter()
    loaded = cohorts.load(engine, cohort)
    suffix = uuid.uuid4().hex[:12]
    cohort_table, identity_view = f"hdh_link_cohort_{suffix}", f"hdh_link_identity_{suffix}"
    engine.register_arrow(cohort_table, loaded.table)
    engine.execute(
        f"CREATE OR REPLACE TEMPORARY VIEW {identity_view} AS "
        f"{_identity_select(engine, identity, columns)}"
    )
    identities = engine.count(identity_view)
    seconds = {"read": time.perf_counter() - started}

    from splink import Linker

    api = splink_api(engine)
    linker = Linker(
        [
            api.register(cohort_table, dataset_display_name="cohort"),
            api.register(identity_view, dataset_display_name="identity"),
        ],
        model.settings(options),
        log_level=None,
    )
    step = time.perf_counter()
    model.train(linker, options)
    seconds["train"] = time.perf_counter() - step
    step = time.perf_counter()
    predictions = linker.inference.predict()
    pairs = predictions.physical_name
    comparisons, pair_mass = engine.fetch(
        f"SELECT count(*), coalesce(sum(match_probability), 0) FROM {pairs}"
    )[0]
    best = _best_links_sql(engine, cohort_table, identity_view, pairs)
    links = [(str(r), p, float(m) if m is not None else None) for r, p, m, _ in engine.fetch(best)]
    seconds["predict"] = time.perf_counter() - step

    probabilities = [m for _, _, m in links if m is not None]
    linked = sum(1 for _, p, m in links if p is not None and m is not None and m >= threshold)
    settings_dict = linker.misc.save_model_to_json()
    report: dict[str, Any] = {
        "created_at": clock.now().isoformat(),
        "engine": engine.name,
        "splink_version": _splink_version(),
        "cohort_file": loaded.path.name,
        "records": loaded.rows,
        "identities": identities,
        "comparisons": int(comparisons),
        "threshold": threshold,
        "linked": linked,
        "parameters": {
            "probability_two_random_records_match": settings_dict[
                "probability_two_random_records_match"
            ],
            "blocking_rules": [
                rule["blocking_rule"]
                for rule in settings_dict["blocking_rules_to_generate_predictions"]
            ],
            "training": asdict(options),
            "prior_rule": list(model.PRIOR_RULE),
            "em_rules": [list(rule) for rule in model.TRAINING_RULES],
        },
        "m_u": m_u_table(settings_dict),
        "expected": quality.expected(
            probabilities, float(pair_mass), sorted({*quality.THRESHOLDS, threshold})
        ),
        "measured": (
            [m.as_dict() for m in quality.measure(links, truth)] if truth is not None else None
        ),
    }
    chart = linker.visualisations.match_weights_chart().chart_dict

    with files.atomic_path(out) as folder:
        folder.mkdir(parents=True)
        engine.write_parquet(_output_sql(best, threshold), folder / LINKS)
        seconds["total"] = time.perf_counter() - started
        report["seconds"] = {k: round(v, 3) for k, v in seconds.items()}
        _write_json(folder / REPORT, report)
        _write_json(folder / CHART, chart)
        _write_json(folder / MODEL, settings_dict)
    _drop(engine, cohort_table, identity_view)
    logger.info(
        "linkage done: %d records, %d identities, %d comparisons, %d linked at p>=%s",
        loaded.rows,
        identities,
        comparisons,
        linked,
        threshold,
    )
    return LinkageResult(
        folder=out,
        records=loaded.rows,
        identities=identities,
        comparisons=int(comparisons),
        linked=linked,
        threshold=threshold,
        seconds=report["seconds"],
        report=report,
    )


def splink_api(engine: Engine) -> Any:
    """Splink's database API on the engine's own connection or session."""
    if engine.name == "duckdb":
        from splink import DuckDBAPI

        # The engine's connection, so Splink sees the tables registered on it.
        return DuckDBAPI(connection=engine.native())
    if engine.name == "spark":
        from splink import SparkAPI
        from splink.backends.spark import similarity_jar_location

        session = engine.native()
        # Splink's Jaro-Winkler and friends are Scala UDFs shipped in its wheel.
        engine.execute(f"ADD JAR {engine.dialect.path(Path(similarity_jar_location()))}")
        # Intermediate tables are cached in the session, not written beside the lake.
        return SparkAPI(spark_session=session, break_lineage_method="persist")
    raise ValueError(f"no Splink backend for engine {engine.name!r}")


def _identity_select(engine: Engine, identity: str, columns: IdentityColumns) -> str:
    q = engine.quote
    text = engine.dialect.as_text

    def value(column: str | None) -> str:
        # Blank is missing, as in the cohort.
        return f"nullif(trim({text(q(column))}), '')" if column else text("NULL")

    def name(column: str | None) -> str:
        return f"upper({value(column)})"

    person = text(q(columns.person))
    unique_id = f"concat({person}, '-', {text(q(columns.rank))})" if columns.rank else person
    # A date column, or text in ISO form; anything else is missing.
    birth_date = text(f"TRY_CAST({value(columns.birth_date)} AS DATE)")
    postcode = value(columns.postcode)
    return (
        f"SELECT {unique_id} AS unique_id, {person} AS person, "
        f"{name(columns.first_name)} AS first_name, {name(columns.surname)} AS surname, "
        f"split_part({name(columns.surname)}, '-', 1) AS surname_first, "
        f"{name(columns.birth_name)} AS birth_name, {birth_date} AS birth_date, "
        f"substr({birth_date}, 1, 4) AS birth_year, {postcode} AS postcode, "
        f"CASE WHEN substr({postcode}, 1, 2) = '97' THEN substr({postcode}, 1, 3) "
        f"ELSE substr({postcode}, 1, 2) END AS department, "
        f"{value(columns.sex)} AS sex FROM {identity}"
    )


def _best_links_sql(engine: Engine, cohort_table: str, identity_view: str, pairs: str) -> str:
    """Every cohort record with its best-scoring identity (ties broken by pseudonym)."""
    # In a link-only model either side of a pair may be the cohort.
    return (
        "WITH oriented AS ("
        "SELECT CASE WHEN source_dataset_l = 'cohort' THEN unique_id_l ELSE unique_id_r END "
        "AS record_id, CASE WHEN source_dataset_l = 'cohort' THEN unique_id_r "
        "ELSE unique_id_l END AS identity_id, match_probability, match_weight "
        f"FROM {pairs}), ranked AS (SELECT o.record_id, i.person, o.match_probability, "
        "o.match_weight, row_number() OVER (PARTITION BY o.record_id "
        "ORDER BY o.match_probability DESC, i.person) AS position "
        f"FROM oriented o JOIN {identity_view} i ON i.unique_id = o.identity_id) "
        "SELECT c.unique_id AS record_id, r.person, r.match_probability, r.match_weight "
        f"FROM {cohort_table} c LEFT JOIN ranked r "
        "ON r.record_id = c.unique_id AND r.position = 1 ORDER BY c.unique_id"
    )


def _output_sql(best: str, threshold: float) -> str:
    keep = f"match_probability >= {float(threshold)!r}"
    return (
        f"SELECT record_id, CASE WHEN {keep} THEN person END AS person_pseudonym, "
        f"match_probability, match_weight, coalesce({keep}, FALSE) AS linked FROM ({best}) b"
    )


def m_u_table(settings_dict: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per comparison level: m, u, Bayes factor and match weight (log2)."""
    rows = []
    for comparison in settings_dict["comparisons"]:
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            m, u = level.get("m_probability"), level.get("u_probability")
            factor = m / u if m is not None and u else None
            rows.append(
                {
                    "comparison": comparison["output_column_name"],
                    "level": level.get("label_for_charts") or level["sql_condition"],
                    "m": m,
                    "u": u,
                    "bayes_factor": factor,
                    "match_weight": math.log2(factor) if factor else None,
                    "term_frequency": bool(level.get("tf_adjustment_column")),
                }
            )
    return rows


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False, default=str), encoding="utf-8")


def _drop(engine: Engine, cohort_table: str, identity_view: str) -> None:
    engine.execute(f"DROP VIEW IF EXISTS {identity_view}")
    engine.unregister(cohort_table)


def _splink_version() -> str:
    import splink

    return str(splink.__version__)
