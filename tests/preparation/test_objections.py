"""The objection register: pseudonyms only, versioned; and extract ∩ objectors = ∅."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hdh.audit.models import AuditEvent
from hdh.core import clock
from hdh.core.errors import InvalidState, ValidationFailed
from hdh.keys import pseudonyms
from hdh.preparation import objections, services
from hdh.preparation.models import ObjectionEntry
from tests.preparation.helpers import approved_plan, column_values, every_text

NIR = "187026331917980"


@pytest.mark.django_db
def test_the_register_holds_only_pseudonyms_and_audit_never_names_anyone():
    entry = objections.file_objection(nir=NIR, birth_date=dt.date(1987, 2, 28), sex=1)
    assert pseudonyms.is_level1(entry.pseudonym)
    again = objections.file_objection(
        nir="1 87 02 63 319 179 80", birth_date=dt.date(1987, 2, 28), sex="1"
    )
    assert again.pk == entry.pk
    assert objections.register_version() == 1
    objections.withdraw_objection(reference=entry.reference)
    assert objections.register_version() == 2
    with pytest.raises(InvalidState):
        objections.withdraw_objection(reference=entry.reference)
    for event in AuditEvent.objects.filter(action__startswith="preparation.objection"):
        text = str(event.details) + event.target_id
        assert NIR not in text
        assert entry.pseudonym not in text
    version, active = objections.register_snapshot(clock.now())
    assert version == 2
    assert active == set()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "identity",
    [
        {"nir": "187026331917981", "birth_date": dt.date(1987, 2, 28), "sex": 1},
        {"nir": "' OR 1=1 --", "birth_date": dt.date(1987, 2, 28), "sex": 1},
        {"nir": NIR, "birth_date": "yesterday", "sex": 1},
        {"nir": NIR, "birth_date": dt.date(1987, 2, 28), "sex": 9},
        {"nir": ["1"], "birth_date": dt.date(1987, 2, 28), "sex": 1},
    ],
)
def test_hostile_objections_are_refused_and_store_nothing(identity):
    with pytest.raises(ValidationFailed):
        objections.file_objection(**identity)
    assert not ObjectionEntry.objects.exists()
    for reference in ("", "x" * 50, None, "OPP-NOPE"):
        with pytest.raises(ValidationFailed):
            objections.withdraw_objection(reference=reference)


def test_objectors_are_absent_from_every_extract(world):
    """Property: for random registers and perimeters, extract ∩ objectors = ∅."""
    people = world.identities
    tables = [t["table"] for t in approved_plan(world.permit, world.engineer).spec["tables"]]
    state = {"runs": 0}

    @settings(
        max_examples=6,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        chosen=st.sets(st.integers(0, len(people) - 1), max_size=40),
        late=st.sets(st.integers(0, len(people) - 1), max_size=5),
        dropped=st.sets(st.sampled_from(sorted(set(tables) - {"IR_BEN_R"})), max_size=3),
        sex=st.sampled_from(["", "1", "2"]),
    )
    def check(chosen: set[int], late: set[int], dropped: set[str], sex: str) -> None:
        for index in chosen:
            person = people[index]
            objections.file_objection(nir=person.nir, birth_date=person.birth_date, sex=person.sex)
        for index in late - chosen:
            person = people[index]
            objections.file_objection(
                nir=person.nir,
                birth_date=person.birth_date,
                sex=person.sex,
                effective_at=clock.now() + dt.timedelta(days=1),
            )
        plan = approved_plan(
            world.permit, world.engineer, exclude_tables=sorted(dropped), population={"sex": sex}
        )
        started = services.start_run(plan=plan, by=world.engineer)
        done = services.execute_run(started.pk)
        assert done.status == "succeeded", done.error
        state["runs"] += 1
        _, in_force = objections.register_snapshot(clock.now())
        key = services.key_bytes(world.permit.project, done.key_version)
        objectors = {pseudonyms.level2(p1, key=key) for p1 in in_force}
        assert not every_text(done.dataset) & objectors
        # Not vacuous: everyone else of the chosen sex is there.
        others = {
            pseudonyms.level2(p.p1, key=key)
            for p in people
            if p.p1 not in in_force and (not sex or p.sex == int(sex))
        }
        assert column_values(done.dataset, "IR_BEN_R", "BEN_NIR_PSA") == others

    check()
    assert state["runs"] >= 3
