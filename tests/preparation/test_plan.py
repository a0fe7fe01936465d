"""Compiling a permit's perimeter into a plan, and the data engineer's edits."""

from __future__ import annotations

import json

import pytest

from hdh.core.errors import InvalidState, ValidationFailed
from hdh.preparation import plan as plans
from hdh.preparation import services
from hdh.preparation.models import PlanStatus


def test_the_whole_base_gives_every_table_with_its_lake_version(world):
    compiled = plans.compile_plan(world.permit)
    names = {t.table for t in compiled.tables}
    assert names == {
        "IR_BEN_R",
        "ER_PRS_F",
        "ER_PHA_F",
        "ER_BIO_F",
        "T_MCOaaB",
        "T_MCOaaC",
        "KI_CCI_R",
    }
    prs = compiled.table("ER_PRS_F")
    assert prs.period_column == "EXE_SOI_DTD"
    assert prs.version == 1
    assert "BEN_NIR_PSA" in prs.person_columns
    # IR_BEN_R is keyed by the person: it is not cut by the period.
    assert compiled.table("IR_BEN_R").period_column is None
    # Tables without a person column are tied to one, so objectors leave them too.
    assert compiled.table("ER_PHA_F").link.via == "ER_PRS_F"
    assert compiled.table("T_MCOaaB").link.via == "T_MCOaaC"
    # JSON round trip is exact.
    again = plans.Plan.from_json(json.loads(json.dumps(compiled.to_json())))
    assert again.to_json() == compiled.to_json()


def test_more_than_one_potential_identifier_needs_a_motivated_override(world):
    plan = services.create_plan(permit=world.permit, by=world.engineer)
    spec = plans.Plan.from_json(plan.spec)
    assert len(spec.potential_categories()) > 1
    with pytest.raises(ValidationFailed):
        services.approve_plan(plan=plan, by=world.engineer)
    services.update_plan(
        plan=plan,
        by=world.engineer,
        potential_override=f"Autorisation {world.permit.reference} : article 3.",
    )
    services.approve_plan(plan=plan, by=world.engineer)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED
    with pytest.raises(InvalidState):
        services.update_plan(plan=plan, by=world.engineer, dates="year")


def test_direct_identifiers_are_refused_even_when_authorised(world):
    from hdh.catalog.models import Variable

    variable = Variable.objects.filter(
        table__version__base=world.base, table__name="IR_BEN_R", name="BEN_NAI_ANN"
    ).get()
    Variable.objects.filter(pk=variable.pk).update(is_direct_identifier=True)
    compiled = plans.compile_plan(world.permit)
    ben = compiled.table("IR_BEN_R")
    assert "BEN_NAI_ANN" not in ben.columns
    assert any(r.name == "BEN_NAI_ANN" for r in ben.refused)


HOSTILE_EDITS: list[dict[str, object]] = [
    {"population": {"sex": "3"}},
    {"population": {"sex": "1; DROP TABLE x"}},
    {"population": {"birth_year_min": "abc"}},
    {"population": {"birth_year_min": "1700"}},
    {"population": {"birth_year_min": "2000", "birth_year_max": "1990"}},
    {"population": {"departments": "75 ' OR 1=1 --"}},
    {"population": {"icd10": ["E11", "%"]}},
    {"population": {"icd10": "E11'--"}},
    {"population": {"icd10": [1, 2]}},
    {"dates": "weekday"},
    {"shift_days": 0},
    {"shift_days": 10_000},
    {"shift_days": True},
    {"period_columns": {"ER_PRS_F": "BEN_NIR_PSA"}},
    {"period_columns": {"ER_PRS_F": '"; DROP'}},
    {"period_columns": {"NOPE": "EXE_SOI_DTD"}},
    {"potential_override": "x" * 3000},
    {"potential_override": "article 2 ; NIR 187026331917980"},
]


def test_hostile_edits_are_refused_and_change_nothing(world):
    plan = services.create_plan(permit=world.permit, by=world.engineer)
    before = plan.spec
    for edit in HOSTILE_EDITS:
        with pytest.raises(ValidationFailed):
            services.update_plan(plan=plan, by=world.engineer, **edit)
        plan.refresh_from_db()
        assert plan.spec == before, edit


def test_population_edits_are_normalised(world):
    plan = services.create_plan(permit=world.permit, by=world.engineer)
    services.update_plan(
        plan=plan,
        by=world.engineer,
        population={
            "sex": "2",
            "birth_year_min": "1950",
            "departments": "75, 2A 13",
            "icd10": "e11 I21.0",
        },
        period_columns={"ER_PRS_F": "EXE_SOI_DTF"},
    )
    spec = plans.Plan.from_json(plan.spec)
    assert spec.population.sex == 2
    assert spec.population.departments == ["13", "2A", "75"]
    assert spec.population.icd10 == ["E11", "I210"]
    assert spec.table("ER_PRS_F").period_column == "EXE_SOI_DTF"
