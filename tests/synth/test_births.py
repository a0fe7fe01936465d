"""Birth registrations never give two synthetic people the same NIR."""

from __future__ import annotations

import numpy as np
import pytest

from hdh.synth import nir
from hdh.synth import snds_reference as ref
from hdh.synth.births import ORDERS, OVERSEAS_COMMUNES, BirthRegister
from hdh.synth.snds import COUNTRIES_OF_BIRTH


def _register() -> BirthRegister:
    return BirthRegister(list(ref.DEPARTMENTS), COUNTRIES_OF_BIRTH)


def _people(n: int, department: str, abroad: bool) -> dict[str, np.ndarray]:
    return {
        "sex": np.full(n, 2),
        "birth_year": np.full(n, 1968),
        "birth_month": np.full(n, 5),
        "department": np.array([department] * n),
        "born_abroad": np.full(n, abroad),
    }


def _nirs(people: dict[str, np.ndarray], place: np.ndarray, order: np.ndarray) -> np.ndarray:
    return nir.build(
        sex=people["sex"],
        birth_year=people["birth_year"],
        birth_month=people["birth_month"],
        place=place,
        order=order,
    )


def test_a_full_overseas_group_gives_every_person_a_distinct_valid_nir() -> None:
    people = _people(OVERSEAS_COMMUNES * ORDERS, "971", abroad=False)
    place, order = _register().register(**people)
    nirs = _nirs(people, place, order)
    assert len(set(nirs.tolist())) == len(nirs)
    assert all(nir.is_valid(value) for value in nirs[:2000].tolist())
    assert set(np.char.str_len(place).tolist()) == {5}
    assert {p[:3] for p in place.tolist()} == {"971"}
    assert order.min() >= 1
    assert order.max() <= ORDERS


def test_one_person_too_many_in_a_group_is_an_error_not_a_duplicate() -> None:
    register = _register()
    register.register(**_people(OVERSEAS_COMMUNES * ORDERS, "972", abroad=False))
    with pytest.raises(OverflowError):
        register.register(**_people(1, "972", abroad=False))


def test_people_born_abroad_beyond_the_countries_capacity_are_born_at_home() -> None:
    capacity = len(COUNTRIES_OF_BIRTH) * ORDERS
    people = _people(capacity + 500, "075", abroad=True)
    place, order = _register().register(**people)
    nirs = _nirs(people, place, order)
    assert len(set(nirs.tolist())) == len(nirs)
    assert sum(p.startswith("99") for p in place.tolist()) == capacity
    assert sum(p.startswith("75") for p in place.tolist()) == 500
    assert set(p for p in place.tolist() if p.startswith("99")) == set(COUNTRIES_OF_BIRTH)


def test_batches_give_the_same_registrations_as_one_run() -> None:
    rng = np.random.default_rng(7)
    n = 20_000
    departments = np.array(list(ref.DEPARTMENTS))
    people = {
        "sex": rng.integers(1, 3, size=n),
        "birth_year": rng.integers(1920, 2024, size=n),
        "birth_month": rng.integers(1, 13, size=n),
        "department": departments[rng.integers(0, len(departments), size=n)],
        "born_abroad": rng.random(n) < 0.07,
    }
    whole = _register().register(**people)
    register = _register()
    parts = [
        register.register(**{key: value[start : start + 3000] for key, value in people.items()})
        for start in range(0, n, 3000)
    ]
    assert np.array_equal(whole[0], np.concatenate([p[0] for p in parts]))
    assert np.array_equal(whole[1], np.concatenate([p[1] for p in parts]))
    nirs = _nirs(people, whole[0], whole[1])
    assert len(set(nirs.tolist())) == n
