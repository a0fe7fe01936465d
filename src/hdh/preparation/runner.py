# SQL here is built from catalogued names quoted by the dialect, from codes the plan
# validated, and from literals escaped by the dialect; no user text is spliced in.
# ruff: noqa: S608
"""Execute an approved plan on any :class:`~hdh.engines.Engine`.

Per table: keep the period and the population, drop every row of an objector
(anti-join on every person column), replace every person column with its
project pseudonym through a mapping computed once per distinct person, keep
only the planned columns, and write Parquet into a staging folder. Only SQL
generated through the engine's dialect is used, so the same plan runs on every
engine. Publishing (fsync, atomic rename, database row) is the caller's.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from hdh.engines import Engine
from hdh.lake import storage
from hdh.preparation.plan import DATE_TYPES, Plan, Source, TablePlan, lake_folder

OBJECTORS = "hdh_objectors"
# Test hook: seconds to pause after the first table (crash-safety tests kill the run there).
PAUSE_ENV = "HDH_PREPARATION_PAUSE_AFTER_FIRST_TABLE"


class Cancelled(Exception):
    """The run was cancelled between two tables."""


@dataclass
class Written:
    table: str
    file: str
    rows: int
    bytes: int
    sha256: str
    columns: list[str]
    dropped: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    tables: list[Written]
    persons: int
    # Cohort links carried over to the new key (counts), when the run re-keys them.
    links: dict[str, int] | None = None


@dataclass(frozen=True)
class CarriedLinks:
    """Cohort links of the version a re-keying run replaces.

    ``path`` holds ``record_id``, ``person_column`` (the level-2 pseudonym under
    ``key``, the old project key), ``match_probability`` and ``linked``; the run
    writes them again as ``file_name`` with the new key's pseudonyms.
    """

    path: Path
    key: bytes
    table: str
    file_name: str
    person_column: str


def _population_person(columns: list[str]) -> str | None:
    for column in columns:
        if "IDT_ANO" not in column.upper():
            return column
    return columns[0] if columns else None


class Runner:
    def __init__(
        self,
        engine: Engine,
        plan: Plan,
        *,
        key: bytes,
        objectors: set[str],
        staging: Path,
        progress: Callable[[dict[str, Any]], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        links: CarriedLinks | None = None,
    ) -> None:
        self.engine = engine
        self.dialect = engine.dialect
        self.q = engine.quote
        self.plan = plan
        self.key = key
        self.objectors = objectors
        self.staging = staging
        self.work = staging / "_work"
        self.progress = progress or (lambda _: None)
        self.should_stop = should_stop or (lambda: False)
        self.links = links

    # --- relations ---------------------------------------------------------------
    def _relation(self, source: Source | TablePlan) -> str:
        folder = lake_folder(source.path)
        return self.dialect.read_parquet(storage.data_files(folder))

    def _source(self, name: str) -> Source:
        return self.plan.sources[name]

    def _keep(self, alias: str, source: Source | TablePlan, *, depth: int = 0) -> list[str]:
        """Conditions a row of ``source`` (as ``alias``) must meet to be extracted."""
        q = self.q
        persons = (
            source.filter_person_columns if isinstance(source, TablePlan) else source.person_columns
        )
        conditions = [
            f"NOT EXISTS (SELECT 1 FROM {OBJECTORS} o WHERE o.p1 = {alias}.{q(c)})" for c in persons
        ]
        period = source.period_column
        if period and self.plan.period_start:
            start = self.dialect.date_literal(self.plan.period_start)
            conditions.append(f"CAST({alias}.{q(period)} AS DATE) >= {start}")
        if period and self.plan.period_end:
            end = self.dialect.date_literal(self.plan.period_end)
            conditions.append(f"CAST({alias}.{q(period)} AS DATE) <= {end}")
        person = _population_person(persons)
        if person and not self.plan.population.is_empty():
            conditions.append(
                f"EXISTS (SELECT 1 FROM {self._population} pop "
                f"WHERE pop.person = {alias}.{q(person)})"
            )
        link = source.link if isinstance(source, TablePlan) else None
        if link is not None and depth == 0:
            via = self._source(link.via)
            inner = f"v{depth + 1}"
            on = [
                f"{inner}.{q(theirs)} = {alias}.{q(ours)}"
                for ours, theirs in zip(link.fields, link.via_fields, strict=True)
            ]
            keep = self._keep(inner, via, depth=depth + 1)
            conditions.append(
                f"EXISTS (SELECT 1 FROM {self._relation(via)} {inner} "
                f"WHERE {' AND '.join(on + keep)})"
            )
        return conditions

    # --- steps ---------------------------------------------------------------------
    def _write_population(self) -> None:
        population = self.plan.population
        q = self.q
        parts = []
        if population.uses_beneficiaries():
            ben = self._source(population.beneficiary_table)
            where = []
            if population.sex is not None:
                where.append(f"CAST(b.{q(population.sex_column)} AS INTEGER) = {population.sex}")
            if population.birth_year_min is not None:
                where.append(
                    f"CAST(b.{q(population.birth_year_column)} AS INTEGER) "
                    f">= {int(population.birth_year_min)}"
                )
            if population.birth_year_max is not None:
                where.append(
                    f"CAST(b.{q(population.birth_year_column)} AS INTEGER) "
                    f"<= {int(population.birth_year_max)}"
                )
            if population.departments:
                codes = ", ".join(self.dialect.literal(c.zfill(3)) for c in population.departments)
                short = ", ".join(self.dialect.literal(c) for c in population.departments)
                where.append(f"b.{q(population.department_column)} IN ({codes}, {short})")
            parts.append(
                f"SELECT b.{q(population.beneficiary_person)} AS person "
                f"FROM {self._relation(ben)} b WHERE {' AND '.join(where) or 'TRUE'}"
            )
        if population.icd10:
            stay = self._source(population.stay_table)
            diagnosis = self._source(population.diagnosis_table)
            likes = " OR ".join(
                f"d.{q(column)} LIKE {self.dialect.literal(code + '%')}"
                for column in population.diagnosis_columns
                for code in population.icd10
            )
            on = " AND ".join(f"d.{q(k)} = s.{q(k)}" for k in population.stay_keys)
            where = [
                f"EXISTS (SELECT 1 FROM {self._relation(diagnosis)} d WHERE {on} AND ({likes}))"
            ]
            column = q(population.stay_date_column)
            literal = self.dialect.date_literal
            if self.plan.period_start:
                where.append(f"CAST(s.{column} AS DATE) >= {literal(self.plan.period_start)}")
            if self.plan.period_end:
                where.append(f"CAST(s.{column} AS DATE) <= {literal(self.plan.period_end)}")
            parts.append(
                f"SELECT s.{q(population.stay_person)} AS person "
                f"FROM {self._relation(stay)} s WHERE {' AND '.join(where)}"
            )
        union = " INTERSECT ".join(
            f"SELECT person FROM ({part}) p{i}" for i, part in enumerate(parts)
        )
        path = self.work / "population.parquet"
        self.engine.write_parquet(
            f"SELECT DISTINCT person FROM ({union}) u WHERE person IS NOT NULL", path
        )
        self._population = self.dialect.read_parquet([path])

    def _write_mapping(self) -> int:
        """Level-2 pseudonyms of every distinct person the dataset will hold, hashed once."""
        q = self.q
        selects = []
        for table in self.plan.tables:
            wanted = set(table.person_columns)
            if self.plan.options.dates == "shift":
                primary = _population_person(table.filter_person_columns)
                if primary:
                    wanted.add(primary)
            if not wanted:
                continue
            keep = " AND ".join(self._keep("t", table)) or "TRUE"
            for column in sorted(wanted):
                selects.append(
                    f"SELECT CAST(t.{q(column)} AS VARCHAR) AS p1 "
                    f"FROM {self._relation(table)} t WHERE {keep}"
                )
        path = self.work / "mapping.parquet"
        if not selects:
            selects = ["SELECT CAST(NULL AS VARCHAR) AS p1"]
        union = " UNION ALL ".join(selects)
        distinct = f"SELECT DISTINCT p1 FROM ({union}) u WHERE p1 IS NOT NULL"
        written = self.engine.write_parquet(
            f"SELECT p1, {self.dialect.hmac_sha256_hex(self.key, 'p1')} AS p2 FROM ({distinct}) d",
            path,
        )
        self._mapping = self.dialect.read_parquet([path])
        return written.rows

    def _select(self, table: TablePlan) -> tuple[str, list[str], list[str]]:
        q = self.q
        options = self.plan.options
        joins = []
        mapped: dict[str, str] = {}
        for index, column in enumerate(table.person_columns):
            alias = f"m{index}"
            joins.append(f"LEFT JOIN {self._mapping} {alias} ON {alias}.p1 = t.{q(column)}")
            mapped[column] = alias
        offset = None
        if options.dates == "shift":
            primary = _population_person(table.filter_person_columns)
            if primary:
                shifted = mapped.get(primary)
                if shifted is None:
                    shifted = "ms"
                    joins.append(f"LEFT JOIN {self._mapping} ms ON ms.p1 = t.{q(primary)}")
                span = 2 * int(options.shift_days) + 1
                number = self.dialect.hex_to_bigint(f"substr({shifted}.p2, 1, 12)")
                offset = f"(({number}) % {span} - {int(options.shift_days)})"
        expressions, columns, dropped = [], [], []
        for column in table.columns:
            ref = f"t.{q(column)}"
            kind = table.types.get(column)
            if column in mapped:
                expression = f"{mapped[column]}.p2"
            elif (
                kind in DATE_TYPES and column not in table.key_columns and options.dates != "exact"
            ):
                timestamp = kind == "datetime"
                if options.dates == "shift":
                    if offset is None:
                        dropped.append(column)
                        continue
                    expression = self.dialect.add_days(ref, offset, timestamp=timestamp)
                else:
                    expression = self.dialect.truncate_date(ref, options.dates, timestamp=timestamp)
            else:
                expression = ref
            expressions.append(f"{expression} AS {q(column)}")
            columns.append(column)
        keep = " AND ".join(self._keep("t", table)) or "TRUE"
        sql = (
            f"SELECT {', '.join(expressions)} FROM {self._relation(table)} t "
            f"{' '.join(joins)} WHERE {keep}"
        )
        return sql, columns, dropped

    def run(self) -> Outcome:
        if self.staging.exists():
            shutil.rmtree(self.staging)
        self.work.mkdir(parents=True)
        self.engine.register_arrow(
            OBJECTORS, pa.table({"p1": pa.array(sorted(self.objectors), type=pa.string())})
        )
        self._population = ""
        if not self.plan.population.is_empty():
            self._write_population()
        persons = self._write_mapping()
        total = len(self.plan.tables)
        written: list[Written] = []
        rows = 0
        self.progress({"tables_done": 0, "tables_total": total, "rows": 0, "percent": 5})
        for index, table in enumerate(self.plan.tables):
            if self.should_stop():
                raise Cancelled
            sql, columns, dropped = self._select(table)
            result = self.engine.write_parquet(sql, self.staging / f"{table.table}.parquet")
            rows += result.rows
            written.append(
                Written(
                    table=table.table,
                    file=result.path.name,
                    rows=result.rows,
                    bytes=result.bytes,
                    sha256=result.sha256,
                    columns=columns,
                    dropped=dropped,
                )
            )
            self.progress(
                {
                    "tables_done": index + 1,
                    "tables_total": total,
                    "rows": rows,
                    "table": table.table,
                    "percent": 5 + round(90 * (index + 1) / total),
                }
            )
            if index == 0 and os.environ.get(PAUSE_ENV):
                time.sleep(float(os.environ[PAUSE_ENV]))
        carried = None
        if self.links is not None:
            links, carried = rekey_links(
                self.engine,
                self.links,
                mapping=self._mapping,
                objectors=OBJECTORS,
                work=self.work,
                out=self.staging / self.links.file_name,
            )
            written.append(links)
        shutil.rmtree(self.work)
        return Outcome(tables=written, persons=persons, links=carried)


def rekey_links(
    engine: Engine,
    links: CarriedLinks,
    *,
    mapping: str,
    objectors: str,
    work: Path,
    out: Path,
) -> tuple[Written, dict[str, int]]:
    """The cohort links again, each old pseudonym replaced by the same person's new one.

    Old to new goes through the level-1 pseudonyms of this extraction
    (``mapping``, a relation ``p1, p2`` under the new key): ``HMAC(old key,
    P1) -> HMAC(new key, P1)``, never through an identity. A link whose
    person this extraction does not hold (an objector by now, or outside the
    population) is withdrawn as the linkage withdraws one: no pseudonym, no
    probability, not linked.
    """
    q = engine.quote
    person = q(links.person_column)
    rekey = work / "rekey.parquet"
    old = engine.dialect.hmac_sha256_hex(links.key, "m.p1")
    engine.write_parquet(f"SELECT {old} AS old, m.p2 AS new FROM {mapping} m", rekey)
    mapped = engine.dialect.read_parquet([rekey])
    source = engine.dialect.read_parquet([links.path])
    objected = engine.dialect.hmac_sha256_hex(links.key, "o.p1")
    kept = "(l.linked AND r.new IS NOT NULL)"
    counts = engine.fetch(
        "SELECT count(*), "
        "sum(CASE WHEN l.linked THEN 1 ELSE 0 END), "
        f"sum(CASE WHEN {kept} THEN 1 ELSE 0 END), "
        "sum(CASE WHEN l.linked AND r.new IS NULL AND ob.old IS NOT NULL THEN 1 ELSE 0 END) "
        f"FROM {source} l LEFT JOIN {mapped} r ON r.old = l.{person} "
        f"LEFT JOIN (SELECT {objected} AS old FROM {objectors} o) ob ON ob.old = l.{person}"
    )[0]
    records, before, carried, objecting = (int(value or 0) for value in counts)
    result = engine.write_parquet(
        f"SELECT CAST(l.record_id AS VARCHAR) AS record_id, "
        f"CASE WHEN {kept} THEN r.new END AS {person}, "
        f"CASE WHEN l.linked AND r.new IS NULL THEN NULL "
        f"ELSE l.match_probability END AS match_probability, "
        f"coalesce({kept}, FALSE) AS linked "
        f"FROM {source} l LEFT JOIN {mapped} r ON r.old = l.{person} "
        "ORDER BY record_id",
        out,
    )
    written = Written(
        table=links.table,
        file=result.path.name,
        rows=result.rows,
        bytes=result.bytes,
        sha256=result.sha256,
        columns=["record_id", links.person_column, "match_probability", "linked"],
    )
    return written, {
        "records": records,
        "linked_before": before,
        "linked": carried,
        "withdrawn_for_objection": objecting,
        "withdrawn_not_extracted": before - carried - objecting,
    }
