"""The extraction plan: a permit's perimeter compiled into engine-neutral data.

A :class:`Plan` is plain dataclasses that round-trip through JSON. It names,
for each table, the lake version to read, the columns to keep (direct
identifiers are listed as refused, never kept), the person columns to
re-pseudonymise, the period column, and how a table without a person column
is tied to one (so objectors are removed from it too). The data engineer edits
the filters (period columns, population, date options) before approving it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hdh.access.models import Permit
from hdh.catalog.models import Base, Table, Variable
from hdh.engines.types import Column
from hdh.lake.models import DatasetVersion

FORMAT = "hdh.preparation.plan/1"
DATE_TYPES = frozenset({"date", "datetime"})
DATE_MODES = ("exact", "shift", "month", "year")
MAX_SHIFT_DAYS = 365
# The SNDS export guide's five potential identifiers; a project gets at most one.
POTENTIAL_CATEGORIES = {
    "residence_commune": gettext_lazy("commune de résidence"),
    "death_commune": gettext_lazy("commune de décès"),
    "birth_month": gettext_lazy("mois de naissance"),
    "death_date": gettext_lazy("date de décès"),
    "care_dates": gettext_lazy("dates de soins"),
}
_ICD10 = re.compile(r"^[A-Z][0-9]{2}[0-9A-Z]{0,3}$")
_DEPARTMENT = re.compile(r"^(?:[0-9]{2,3}|2A|2B|0?2A|0?2B)$")
_PERIOD_PREFERENCE = ("EXE_SOI_DTD", "ENT_DAT", "SOR_DAT", "DCD_DTE_DC")


class PlanError(ValueError):
    """The plan cannot be compiled, edited or run as it stands."""


@dataclass
class Refused:
    name: str
    reason: str


@dataclass
class Link:
    """Rows of a table without a person column are kept only where ``via`` keeps a match:
    ``this.fields[i] = via.via_fields[i]``."""

    via: str
    fields: list[str]
    via_fields: list[str]


@dataclass
class TablePlan:
    table: str
    version: int
    path: str
    columns: list[str]
    types: dict[str, str]
    person_columns: list[str]
    filter_person_columns: list[str]
    period_column: str | None
    date_columns: list[str]
    key_columns: list[str]
    available_dates: list[str] = field(default_factory=list)
    potential: dict[str, str] = field(default_factory=dict)
    refused: list[Refused] = field(default_factory=list)
    link: Link | None = None
    joins: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Source:
    """A lake table the runner reads only to filter (population, links)."""

    table: str
    version: int
    path: str
    person_columns: list[str]
    period_column: str | None


@dataclass
class Population:
    sex: int | None = None
    birth_year_min: int | None = None
    birth_year_max: int | None = None
    departments: list[str] = field(default_factory=list)
    icd10: list[str] = field(default_factory=list)
    # Where each criterion is read (SNDS names; present when the base has them).
    beneficiary_table: str = "IR_BEN_R"
    beneficiary_person: str = "BEN_NIR_PSA"
    sex_column: str = "BEN_SEX_COD"
    birth_year_column: str = "BEN_NAI_ANN"
    department_column: str = "BEN_RES_DPT"
    diagnosis_table: str = "T_MCOaaB"
    diagnosis_columns: list[str] = field(default_factory=lambda: ["DGN_PAL", "DGN_REL"])
    stay_table: str = "T_MCOaaC"
    stay_person: str = "NIR_ANO_17"
    stay_keys: list[str] = field(default_factory=lambda: ["ETA_NUM", "RSA_NUM"])
    stay_date_column: str = "EXE_SOI_DTD"

    def is_empty(self) -> bool:
        return (
            self.sex is None
            and self.birth_year_min is None
            and self.birth_year_max is None
            and not self.departments
            and not self.icd10
        )

    def uses_beneficiaries(self) -> bool:
        return (
            self.sex is not None
            or self.birth_year_min is not None
            or self.birth_year_max is not None
            or bool(self.departments)
        )


@dataclass
class Options:
    dates: str = "exact"
    shift_days: int = 30


@dataclass
class Plan:
    format: str
    permit: str
    project: str
    application_id: int
    base: str
    period_start: str | None
    period_end: str | None
    tables: list[TablePlan]
    population: Population
    options: Options
    sources: dict[str, Source] = field(default_factory=dict)
    refused_tables: list[Refused] = field(default_factory=list)
    potential_override: str = ""

    # --- JSON ----------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise PlanError("not an extraction plan of this format")
        tables = []
        for raw in data["tables"]:
            raw = dict(raw)
            raw["refused"] = [Refused(**r) for r in raw.get("refused", [])]
            raw["link"] = Link(**raw["link"]) if raw.get("link") else None
            tables.append(TablePlan(**raw))
        return cls(
            format=data["format"],
            permit=data["permit"],
            project=data["project"],
            application_id=int(data["application_id"]),
            base=data["base"],
            period_start=data.get("period_start"),
            period_end=data.get("period_end"),
            tables=tables,
            population=Population(**data.get("population", {})),
            options=Options(**data.get("options", {})),
            sources={k: Source(**v) for k, v in data.get("sources", {}).items()},
            refused_tables=[Refused(**r) for r in data.get("refused_tables", [])],
            potential_override=data.get("potential_override", ""),
        )

    # --- what the plan gives -------------------------------------------------
    def table(self, name: str) -> TablePlan:
        for table in self.tables:
            if table.table == name:
                return table
        raise PlanError(_("La table %(t)s n'est pas dans le plan.") % {"t": str(name)[:40]})

    def potential_categories(self) -> list[str]:
        """The potential-identifier categories the dataset would hold."""
        found: set[str] = set()
        generalised = self.options.dates in {"month", "year"}
        for table in self.tables:
            for column, category in table.potential.items():
                if column not in table.columns:
                    continue
                if generalised and table.types.get(column) in DATE_TYPES:
                    continue
                found.add(category)
        return sorted(found)

    def problems(self) -> list[str]:
        """Why this plan may not be approved (empty when it may)."""
        found = []
        if not self.tables:
            found.append(_("Aucune table du périmètre n'a de données validées dans le lac."))
        categories = self.potential_categories()
        if len(categories) > 1 and not self.potential_override.strip():
            names = ", ".join(str(POTENTIAL_CATEGORIES[c]) for c in categories)
            found.append(
                _(
                    "Le jeu de données contiendrait plusieurs identifiants potentiels "
                    "(%(names)s) : un seul est permis, sauf dérogation motivée "
                    "citant l'autorisation."
                )
                % {"names": names}
            )
        if not self.population.is_empty():
            needed = []
            if self.population.uses_beneficiaries():
                needed.append(self.population.beneficiary_table)
            if self.population.icd10:
                needed += [self.population.diagnosis_table, self.population.stay_table]
            for name in needed:
                if name not in self.sources:
                    found.append(
                        _("Critère de population impossible : la table %(t)s manque au lac.")
                        % {"t": name}
                    )
        return found


# --- compilation -----------------------------------------------------------------
def storage_of(variable: Variable) -> str:
    """The type the lake stores (a month of birth catalogued as a date is text)."""
    return Column(variable.name, variable.type, variable.format).storage


def category_of(variable: Variable) -> str:
    name = variable.name.upper()
    if "RES_COM" in name:
        return "residence_commune"
    if "DCD_COM" in name:
        return "death_commune"
    if "NAI_MOI" in name or "NAI_ANM" in name:
        return "birth_month"
    if "DCD" in name or "DECES" in name:
        return "death_date"
    return "care_dates"


def _latest(base: Base, table: str) -> DatasetVersion | None:
    return DatasetVersion.objects.filter(base=base, table_name=table).order_by("-number").first()


def _period_column(table: Table, dates: list[str], person_key: bool) -> str | None:
    if person_key:
        return None
    for name in _PERIOD_PREFERENCE:
        if name in dates:
            return name
    for name in dates:
        if not any(part in name for part in ("DCD", "NAI", "MAJ", "INS", "FLX", "MOI")):
            return name
    return None


def _source(base: Base, table: Table) -> Source | None:
    version = _latest(base, table.name)
    if version is None:
        return None
    variables = list(table.variables.all())
    persons = [v.name for v in variables if v.is_pseudonym]
    dates = [v.name for v in variables if storage_of(v) in DATE_TYPES]
    person_key = bool(table.primary_key) and set(table.primary_key) & set(persons) != set()
    return Source(
        table=table.name,
        version=version.number,
        path=version.path,
        person_columns=persons,
        period_column=_period_column(table, dates, person_key),
    )


def _perimeter(permit: Permit) -> tuple[Base, dict[str, set[str] | None]]:
    """The base and, per table, the authorised variables (None: all of them)."""
    bases = {item["base"] for item in permit.perimeter}
    if len(bases) != 1:
        raise PlanError(_("Un plan d'extraction porte sur une seule base."))
    base = Base.objects.get(slug=bases.pop())
    if base.current_version_id is None:
        raise PlanError(_("La base n'a pas de dictionnaire publié."))
    tables: dict[str, set[str] | None] = {}
    for item in permit.perimeter:
        if not item.get("table"):
            for name in Table.objects.filter(version_id=base.current_version_id).values_list(
                "name", flat=True
            ):
                tables[name] = None
        elif not item.get("variable"):
            tables[item["table"]] = None
        elif tables.get(item["table"], set()) is not None:
            wanted = tables.setdefault(item["table"], set())
            assert wanted is not None
            wanted.add(item["variable"])
    return base, tables


def compile_plan(permit: Permit) -> Plan:
    """The plan the perimeter of ``permit`` gives, before the data engineer's edits."""
    base, wanted = _perimeter(permit)
    catalog = {
        t.name: t
        for t in Table.objects.filter(version_id=base.current_version_id).prefetch_related(
            "variables", "relations"
        )
    }
    sources: dict[str, Source] = {}
    for name, table in catalog.items():
        found = _source(base, table)
        if found is not None:
            sources[name] = found
    plans: list[TablePlan] = []
    refused_tables: list[Refused] = []
    for name in sorted(wanted):
        catalogued = catalog.get(name)
        if catalogued is None:
            refused_tables.append(Refused(name, _("absente du dictionnaire publié")))
            continue
        source = sources.get(name)
        if source is None:
            refused_tables.append(Refused(name, _("aucune version validée dans le lac")))
            continue
        plans.append(_table_plan(catalogued, source, wanted[name], catalog, sources))
    for plan in list(plans):
        if not plan.filter_person_columns and plan.link is None:
            plans.remove(plan)
            refused_tables.append(
                Refused(
                    plan.table,
                    _("aucun lien vers une personne : les opposants n'y seraient pas retirés"),
                )
            )
    return Plan(
        format=FORMAT,
        permit=permit.reference,
        project=permit.project.reference,
        application_id=permit.application_id,
        base=base.slug,
        period_start=permit.period_start.isoformat() if permit.period_start else None,
        period_end=permit.period_end.isoformat() if permit.period_end else None,
        tables=plans,
        population=Population(),
        options=Options(),
        sources=sources,
        refused_tables=refused_tables,
    )


def _table_plan(
    table: Table,
    source: Source,
    wanted: set[str] | None,
    catalog: dict[str, Table],
    sources: dict[str, Source],
) -> TablePlan:
    variables = sorted(table.variables.all(), key=lambda v: (v.position, v.pk))
    columns: list[str] = []
    refused: list[Refused] = []
    potential: dict[str, str] = {}
    for variable in variables:
        if wanted is not None and variable.name not in wanted:
            continue
        if variable.is_direct_identifier:
            refused.append(Refused(variable.name, _("identifiant direct : jamais extrait")))
            continue
        columns.append(variable.name)
        if variable.is_potential_identifier:
            potential[variable.name] = category_of(variable)
    types = {v.name: storage_of(v) for v in variables if v.name in columns}
    dates = [c for c in columns if types[c] in DATE_TYPES]
    key_columns: set[str] = set()
    joins = []
    for relation in table.relations.all():
        key_columns |= set(relation.fields)
        joins.append(
            {
                "fields": relation.fields,
                "table": relation.target_name,
                "target": relation.target_fields,
            }
        )
    for other in catalog.values():
        for relation in other.relations.all():
            if relation.target_name == table.name:
                key_columns |= set(relation.target_fields)
    link = None
    if not source.person_columns:
        link = _link(table, catalog, sources)
    return TablePlan(
        table=table.name,
        version=source.version,
        path=source.path,
        columns=columns,
        types=types,
        person_columns=[c for c in columns if c in source.person_columns],
        filter_person_columns=list(source.person_columns),
        period_column=source.period_column,
        date_columns=dates,
        key_columns=sorted(key_columns & set(columns)),
        available_dates=[v.name for v in variables if storage_of(v) in DATE_TYPES],
        potential=potential,
        refused=refused,
        link=link,
        joins=joins,
    )


def _link(table: Table, catalog: dict[str, Table], sources: dict[str, Source]) -> Link | None:
    for relation in table.relations.all():
        target = sources.get(relation.target_name)
        if target is not None and target.person_columns and relation.target_fields:
            return Link(relation.target_name, list(relation.fields), list(relation.target_fields))
    for other in catalog.values():
        for relation in other.relations.all():
            source = sources.get(other.name)
            if (
                relation.target_name == table.name
                and source is not None
                and source.person_columns
                and relation.target_fields
            ):
                return Link(other.name, list(relation.target_fields), list(relation.fields))
    return None


# --- edits by the data engineer -------------------------------------------------
def edit(
    plan: Plan,
    *,
    period_columns: dict[str, str | None] | None = None,
    population: dict[str, Any] | None = None,
    dates: str | None = None,
    shift_days: int | None = None,
    potential_override: str | None = None,
    exclude_tables: list[str] | None = None,
) -> Plan:
    """A copy of ``plan`` with the edits applied, each validated.

    ``exclude_tables`` leaves authorised tables out (minimisation); a table
    never comes back once left out of a plan: compile a new plan for that.
    """
    plan = Plan.from_json(plan.to_json())
    if exclude_tables is not None:
        if not isinstance(exclude_tables, list) or not all(
            isinstance(name, str) for name in exclude_tables
        ):
            raise PlanError(_("Liste de tables invalide."))
        for name in exclude_tables:
            table = plan.table(name)
            plan.tables.remove(table)
            plan.refused_tables.append(Refused(name, _("écartée par l'ingénieur de données")))
    for name, column in (period_columns or {}).items():
        table = plan.table(name)
        if column in (None, ""):
            table.period_column = None
        elif column in table.available_dates:
            table.period_column = column
        else:
            raise PlanError(
                _("%(c)s n'est pas une date de la table %(t)s.") % {"c": column, "t": name}
            )
    if population is not None:
        plan.population = _population(plan.population, population)
    if dates is not None:
        if dates not in DATE_MODES:
            raise PlanError(_("Traitement des dates inconnu."))
        plan.options.dates = dates
    if shift_days is not None:
        if (
            isinstance(shift_days, bool)
            or not isinstance(shift_days, int)
            or not 1 <= shift_days <= MAX_SHIFT_DAYS
        ):
            raise PlanError(_("Le décalage des dates est compris entre 1 et 365 jours."))
        plan.options.shift_days = shift_days
    if potential_override is not None:
        if not isinstance(potential_override, str) or len(potential_override) > 2000:
            raise PlanError(_("La dérogation est un texte de 2000 caractères au plus."))
        if re.search(r"[0-9]{12}", potential_override):
            # The text goes to the audit log, which never holds an identifier.
            raise PlanError(_("La dérogation ne doit contenir aucun identifiant."))
        plan.potential_override = potential_override.strip()
    return plan


def _population(current: Population, values: dict[str, Any]) -> Population:
    result = dataclasses.replace(current)
    sex = values.get("sex")
    if sex in (None, ""):
        result.sex = None
    elif str(sex) in {"1", "2"}:
        result.sex = int(sex)
    else:
        raise PlanError(_("Le sexe vaut 1 ou 2."))
    this_year = dt.date.today().year + 1
    for key in ("birth_year_min", "birth_year_max"):
        value = values.get(key)
        if value in (None, ""):
            setattr(result, key, None)
            continue
        try:
            year = int(value)
        except (TypeError, ValueError):
            raise PlanError(_("Une année de naissance est un nombre.")) from None
        if not 1880 <= year <= this_year:
            raise PlanError(_("Année de naissance hors limites."))
        setattr(result, key, year)
    if (
        result.birth_year_min is not None
        and result.birth_year_max is not None
        and result.birth_year_min > result.birth_year_max
    ):
        raise PlanError(_("L'année de naissance minimale dépasse la maximale."))
    result.departments = _codes(values.get("departments", []), _DEPARTMENT, _("département"))
    result.icd10 = _codes(values.get("icd10", []), _ICD10, _("code CIM-10"))
    return result


def _codes(value: Any, pattern: re.Pattern[str], what: str) -> list[str]:
    if isinstance(value, str):
        value = [v for v in re.split(r"[\s,;]+", value) if v]
    if not isinstance(value, list) or len(value) > 200:
        raise PlanError(_("Liste de %(w)s invalide.") % {"w": what})
    codes = []
    for item in value:
        if not isinstance(item, str):
            raise PlanError(_("Liste de %(w)s invalide.") % {"w": what})
        code = item.strip().upper().replace(".", "")
        if not pattern.match(code):
            raise PlanError(_("%(w)s invalide : %(v)s") % {"w": what, "v": code[:12]})
        codes.append(code)
    return sorted(set(codes))


def lake_folder(path: str) -> Any:
    """The absolute folder of a lake version recorded in a plan."""
    from hdh.core import lake

    folder = lake.root() / path
    if lake.root().resolve() not in folder.resolve().parents:
        raise PlanError("a plan's source is outside the lake")
    return folder
