"""Running a plan: objectors absent, pseudonyms per project, no identifier, checksums."""

from __future__ import annotations

import datetime as dt

import pytest

from hdh.access.states import State
from hdh.core import clock
from hdh.core.errors import InvalidState
from hdh.keys import pseudonyms
from hdh.preparation import objections, services
from hdh.preparation.models import ProjectDataset
from tests.factories.access import create_application_at
from tests.preparation.helpers import (
    NIR_PATTERN,
    approved_plan,
    column_values,
    every_text,
    run,
    tables,
)


def test_a_run_publishes_a_verified_dataset_without_objectors_or_identifiers(world, engine_name):
    objectors = world.identities[:15]
    for person in objectors:
        objections.file_objection(nir=person.nir, birth_date=person.birth_date, sex=person.sex)
    plan = approved_plan(world.permit, world.engineer)
    done = run(plan, world.engineer, engine_name)
    dataset = done.dataset
    assert services.verify_dataset(dataset) == []
    manifest = dataset.manifest
    assert manifest["objection_register_version"] == 15
    assert manifest["engine"] == engine_name
    assert {t["table"] for t in manifest["tables"]} == {t["table"] for t in plan.spec["tables"]}
    world.application.refresh_from_db()
    assert world.application.state == State.DATA_PREPARATION

    key = services.key_bytes(world.permit.project, done.key_version)
    expected = {pseudonyms.level2(p.p1, key=key) for p in world.identities}
    gone = {pseudonyms.level2(p.p1, key=key) for p in objectors}
    people = column_values(dataset, "IR_BEN_R", "BEN_NIR_PSA")
    assert people == expected - gone
    # Deterministic linkage across tables: the same person has the same pseudonym.
    assert column_values(dataset, "ER_PRS_F", "BEN_NIR_PSA") <= people
    assert column_values(dataset, "T_MCOaaC", "NIR_ANO_17") <= people
    texts = every_text(dataset)
    assert not texts & gone
    assert not texts & {p.p1 for p in world.identities}
    assert not texts & {p.nir for p in world.identities}
    assert not any(NIR_PATTERN.match(value) for value in texts)
    data = tables(dataset)
    assert data["ER_PRS_F"]
    assert data["T_MCOaaB"]
    assert data["ER_PHA_F"]
    # Tables without a person column keep only rows tied to a kept person.
    assert len(data["T_MCOaaB"]) == len(data["T_MCOaaC"])


def test_pseudonyms_differ_across_projects_and_repeat_with_the_same_key(world, engine_name):
    first = run(approved_plan(world.permit, world.engineer), world.engineer, engine_name)
    people = column_values(first.dataset, "IR_BEN_R", "BEN_NIR_PSA")
    again = services.start_run(plan=first.plan, by=world.engineer, engine=engine_name)
    again = services.execute_run(again.pk)
    assert again.key_version == first.key_version
    assert column_values(again.dataset, "IR_BEN_R", "BEN_NIR_PSA") == people
    other = create_application_at(State.CONTRACT_SIGNED, base=world.base, team=world.team)
    second = run(approved_plan(other.permit, world.engineer), world.engineer, engine_name)
    assert not column_values(second.dataset, "IR_BEN_R", "BEN_NIR_PSA") & people
    assert len(column_values(second.dataset, "IR_BEN_R", "BEN_NIR_PSA")) == len(people)


def test_rotation_changes_every_pseudonym_and_joins_still_work(world, engine_name):
    first = run(approved_plan(world.permit, world.engineer), world.engineer, engine_name)
    before = column_values(first.dataset, "IR_BEN_R", "BEN_NIR_PSA")
    runs = services.rotate_project_key(project=world.permit.project, by=world.engineer)
    assert len(runs) == 1
    done = services.execute_run(runs[0].pk)
    assert done.status == "succeeded", done.error
    assert done.key_version == first.key_version + 1
    after = column_values(done.dataset, "IR_BEN_R", "BEN_NIR_PSA")
    assert len(after) == len(before)
    assert not after & before
    assert column_values(done.dataset, "ER_PRS_F", "BEN_NIR_PSA") <= after
    first.dataset.refresh_from_db()
    assert first.dataset.superseded_at is not None
    current = ProjectDataset.objects.filter(project=world.permit.project, superseded_at=None)
    assert list(current) == [done.dataset]


def test_population_period_and_date_shift(world, engine_name):
    plan = approved_plan(
        world.permit,
        world.engineer,
        population={"sex": "2", "birth_year_max": "1990"},
        dates="shift",
        shift_days=10,
    )
    done = run(plan, world.engineer, engine_name)
    data = tables(done.dataset)
    assert data["IR_BEN_R"]
    assert all(row["BEN_SEX_COD"] == 2 for row in data["IR_BEN_R"])
    assert all(row["BEN_NAI_ANN"] <= 1990 for row in data["IR_BEN_R"])
    women = {row["BEN_NIR_PSA"] for row in data["IR_BEN_R"]}
    assert {row["BEN_NIR_PSA"] for row in data["ER_PRS_F"]} <= women
    # Each person's dates move by one offset within ±10 days, the same in every table.
    for row in data["ER_PRS_F"]:
        offset = int(row["BEN_NIR_PSA"][:12], 16) % 21 - 10
        assert -10 <= offset <= 10
    period_start = dt.date.fromisoformat(plan.spec["period_start"])
    assert all(
        row["EXE_SOI_DTD"] is None or _day(row["EXE_SOI_DTD"]) >= period_start - dt.timedelta(10)
        for row in data["ER_PRS_F"]
    )


def _day(value: dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def test_generalised_dates_are_first_days(world, engine_name):
    done = run(
        approved_plan(world.permit, world.engineer, dates="month"), world.engineer, engine_name
    )
    data = tables(done.dataset)
    days = {row["EXE_SOI_DTD"].day for row in data["ER_PRS_F"] if row["EXE_SOI_DTD"]}
    assert days == {1}


def test_objections_after_the_extraction_time_or_withdrawn_before_do_not_apply(world):
    late, withdrawn = world.identities[0], world.identities[1]
    objections.file_objection(
        nir=late.nir,
        birth_date=late.birth_date,
        sex=late.sex,
        effective_at=clock.now() + dt.timedelta(days=30),
    )
    entry = objections.file_objection(
        nir=withdrawn.nir, birth_date=withdrawn.birth_date, sex=withdrawn.sex
    )
    objections.withdraw_objection(reference=entry.reference)
    done = run(approved_plan(world.permit, world.engineer), world.engineer)
    key = services.key_bytes(world.permit.project, done.key_version)
    people = column_values(done.dataset, "IR_BEN_R", "BEN_NIR_PSA")
    assert pseudonyms.level2(late.p1, key=key) in people
    assert pseudonyms.level2(withdrawn.p1, key=key) in people
    assert done.dataset.manifest["objection_register_version"] == 3


def test_cancel_before_start_ends_the_run(world):
    plan = approved_plan(world.permit, world.engineer)
    started = services.start_run(plan=plan, by=world.engineer)
    services.cancel_run(run=started, by=world.engineer)
    started.refresh_from_db()
    assert started.status == "cancelled"
    assert services.execute_run(started.pk).status == "cancelled"
    assert not ProjectDataset.objects.exists()


def test_a_failing_run_ends_failed_and_leaves_nothing(world, monkeypatch):
    plan = approved_plan(world.permit, world.engineer)
    started = services.start_run(plan=plan, by=world.engineer)

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("hdh.preparation.runner.Runner._select", boom)
    done = services.execute_run(started.pk)
    assert done.status == "failed"
    assert not ProjectDataset.objects.exists()
    staging = services.staging_path(done)
    assert not staging.exists()
    with pytest.raises(InvalidState):
        services.cancel_run(run=done, by=world.engineer)


def test_a_failure_quoting_key_material_keeps_it_out_of_logs_and_the_run(
    world, monkeypatch, caplog
):
    # Engines quote the failing SQL in their messages, and the runner's SQL
    # inlines the HMAC pads of the project key as hex.
    plan = approved_plan(world.permit, world.engineer)
    started = services.start_run(plan=plan, by=world.engineer)
    pads = "36" * 64

    def boom(*args, **kwargs):
        raise RuntimeError(f"Parser Error: LINE 1: ... unhex('{pads}') || ...")

    monkeypatch.setattr("hdh.preparation.runner.Runner._select", boom)
    with caplog.at_level("DEBUG"):
        done = services.execute_run(started.pk)
    assert done.status == "failed"
    assert "Parser Error" in done.error
    assert "3636363636363636" not in done.error
    assert "3636363636363636" not in caplog.text
