"""Synthetic identity attributes, and external cohorts made from them with realistic errors.

Names, birth date and place of residence are what a hospital cohort or a
registry holds about a person, and what probabilistic record linkage compares.
Everything here is vectorised and deterministic for a given random generator;
the frequency lists are small, hand-written and embedded
(``data/identity_fr.json``): first names depend on sex and birth decade,
surnames follow a long-tailed distribution, postcodes and communes lie in the
person's département of residence.

:func:`corrupt` turns a set of identities into an "external cohort": the same
people as another source would record them — typos, day and month swapped,
missing values, moves, married and hyphenated names, duplicate records. The
true person behind each record is returned separately so that linkage can be
measured; it is never part of the cohort itself.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from hdh.synth import snds_reference as ref
from hdh.synth.schema import FieldShape

COHORT_COLUMNS = ("record_id", "first_name", "surname", "birth_date", "sex", "postcode")
_LETTERS = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
# Share of adult women whose usage name is a spouse's name (birth name kept aside).
_MARRIED_NAME_SHARE = 0.45
_COMMON_SURNAME_SHARE = 0.55
_COMMUNES_PER_DEPARTMENT = 300


@cache
def _lists() -> dict[str, Any]:
    text = resources.files("hdh.synth").joinpath("data/identity_fr.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _first_name_table(sex: int, decade: int) -> tuple[np.ndarray, np.ndarray]:
    """Names and probabilities for people of ``sex`` born in ``decade``.

    A name's popularity is its weight times a bell curve around its peak decade
    (a spread of about 15 years), so that generations get their own names.
    """
    names, probabilities = _first_name_tables()[sex]
    return names, probabilities[decade]


@cache
def _first_name_tables() -> dict[int, tuple[np.ndarray, dict[int, np.ndarray]]]:
    tables = {}
    for sex, entries in _lists()["first_names"].items():
        names = np.array([name for name, _, _ in entries])
        peaks = np.array([peak for _, peak, _ in entries], dtype=float)
        weights = np.array([weight for _, _, weight in entries], dtype=float)
        by_decade = {}
        for decade in range(1900, 2040, 10):
            p = weights * np.exp(-(((decade + 5 - peaks) / 15.0) ** 2) / 2) + 1e-4
            by_decade[decade] = p / p.sum()
        tables[int(sex)] = (names, by_decade)
    return tables


def first_names(rng: np.random.Generator, sex: np.ndarray, birth_year: np.ndarray) -> np.ndarray:
    result = np.empty(len(sex), dtype=object)
    decade = np.clip(birth_year // 10 * 10, 1900, 2030)
    for s in (1, 2):
        for d in np.unique(decade[sex == s]):
            where = np.flatnonzero((sex == s) & (decade == d))
            names, p = _first_name_table(int(s), int(d))
            result[where] = names[rng.choice(len(names), size=len(where), p=p)]
    return result


def surnames(rng: np.random.Generator, n: int) -> np.ndarray:
    """Common surnames (Zipf-like by rank) mixed with a long tail of rarer built ones."""
    common, weights, built = _surname_tables()
    picked = common[rng.choice(len(common), size=n, p=weights)]
    tail = built[rng.integers(0, len(built), size=n)]
    result: np.ndarray = np.where(rng.random(n) < _COMMON_SURNAME_SHARE, picked, tail)
    return result


@cache
def _surname_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lists = _lists()
    common = np.array(lists["surnames"], dtype=object)
    weights = 1.0 / np.arange(1, len(common) + 1) ** 0.6
    # Every prefix + root + ending, so that the tail is drawn by index.
    built = np.array(
        [
            prefix + root + ending
            for prefix in lists["surname_prefixes"]
            for root in lists["surname_roots"]
            for ending in lists["surname_endings"]
        ],
        dtype=object,
    )
    return common, weights / weights.sum(), built


def birth_dates(
    rng: np.random.Generator, birth_year: np.ndarray, birth_month: np.ndarray
) -> np.ndarray:
    """A day in the given year and month (consistent with the NIR's year and month)."""
    month_start = (birth_year.astype(np.int64) - 1970) * 12 + (birth_month.astype(np.int64) - 1)
    first = month_start.astype("datetime64[M]").astype("datetime64[D]")
    following = (month_start + 1).astype("datetime64[M]").astype("datetime64[D]")
    length = (following - first).astype(np.int64)
    result: np.ndarray = first + (rng.random(len(first)) * length).astype(np.int64)
    return result


def places(rng: np.random.Generator, department: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """INSEE commune code and postcode of residence, both in ``department``.

    Communes follow a Zipf law inside a département (a few large towns, many
    villages); several communes share a postcode, as in France.
    """
    n = len(department)
    ranks = np.arange(1, _COMMUNES_PER_DEPARTMENT + 1)
    p = 1.0 / ranks
    number = rng.choice(len(ranks), size=n, p=p / p.sum())
    codes, where = np.unique(department.astype(str), return_inverse=True)
    communes, postcodes = _place_tables(tuple(codes.tolist()))
    commune: np.ndarray = communes[where, number]
    postcode: np.ndarray = postcodes[where, number]
    return commune, postcode


@cache
def _place_tables(departments: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Commune and postcode of every (département, commune rank), as lookup tables."""
    shape = (len(departments), _COMMUNES_PER_DEPARTMENT)
    communes, postcodes = np.empty(shape, dtype=object), np.empty(shape, dtype=object)
    for row, code in enumerate(departments):
        for column in range(_COMMUNES_PER_DEPARTMENT):
            communes[row, column], postcodes[row, column] = _place(code, column + 1)
    return communes, postcodes


def _place(department: str, number: int) -> tuple[str, str]:
    if department.startswith("97"):
        return f"{department}{number % 100:02d}", f"{department}{number % 10}0"
    two = department[1:] if department.startswith("0") else department
    commune = f"{two}{number:03d}"
    if two == "75":
        return f"75{100 + number % 20 + 1:03d}", f"750{number % 20 + 1:02d}"
    if two in {"2A", "2B"}:
        return commune, f"20{(1 if two == '2A' else 2)}{number % 10}0"
    return commune, f"{two}{number % 100:02d}0"


def names_and_places(
    rng: np.random.Generator,
    *,
    sex: np.ndarray,
    birth_year: np.ndarray,
    department: np.ndarray,
    reference_year: int = 2023,
) -> dict[str, np.ndarray]:
    """``first_name``, ``surname`` (usage name), ``birth_name``, ``commune`` and
    ``postcode`` for people already drawn, upper case without accents as French
    administrative files write them."""
    n = len(sex)
    birth_name = surnames(rng, n)
    age = reference_year - birth_year
    married = (sex == 2) & (age >= 25) & (rng.random(n) < _MARRIED_NAME_SHARE)
    surname = np.where(married, surnames(rng, n), birth_name)
    commune, postcode = places(rng, department)
    return {
        "first_name": first_names(rng, sex, birth_year),
        "surname": surname,
        "birth_name": birth_name,
        "commune": commune,
        "postcode": postcode,
    }


def attributes(
    rng: np.random.Generator,
    *,
    sex: np.ndarray,
    birth_year: np.ndarray,
    birth_month: np.ndarray,
    department: np.ndarray,
    reference_year: int = 2023,
) -> dict[str, np.ndarray]:
    """:func:`names_and_places` plus ``birth_date`` (``datetime64[D]``) in the given
    year and month."""
    columns = names_and_places(
        rng, sex=sex, birth_year=birth_year, department=department, reference_year=reference_year
    )
    columns["birth_date"] = birth_dates(rng, birth_year, birth_month)
    return columns


# The identity output of the synthetic SNDS (IR_IDENTITE) carries these beside the NIR.
SNDS_FIELDS = (
    FieldShape("BEN_PRENOM", "string", length="40"),
    FieldShape("BEN_NOM_USAGE", "string", length="60"),
    FieldShape("BEN_NOM_NAISSANCE", "string", length="60"),
    FieldShape("BEN_CODE_POSTAL", "string", length="5"),
    FieldShape("BEN_RES_COM", "string", length="5"),
)


def snds_columns(
    rng: np.random.Generator,
    *,
    sex: np.ndarray,
    birth_year: np.ndarray,
    department: np.ndarray,
    reference_year: int,
) -> dict[str, np.ndarray]:
    """:data:`SNDS_FIELDS` for a batch of synthetic beneficiaries."""
    columns = names_and_places(
        rng, sex=sex, birth_year=birth_year, department=department, reference_year=reference_year
    )
    return {
        "BEN_PRENOM": columns["first_name"],
        "BEN_NOM_USAGE": columns["surname"],
        "BEN_NOM_NAISSANCE": columns["birth_name"],
        "BEN_CODE_POSTAL": columns["postcode"],
        "BEN_RES_COM": columns["commune"],
    }


def people(n: int, *, seed: int = 0, reference_year: int = 2023, prefix: str = "P") -> pd.DataFrame:
    """``n`` synthetic people with an id and identity attributes (for tests and benchmarks).

    Sex, age and département follow the synthetic SNDS's distributions.
    """
    rng = np.random.default_rng([seed, 0x1D])
    sex = rng.choice(np.array([1, 2]), size=n, p=[0.485, 0.515])
    knots = np.array(ref.AGE_KNOTS, dtype=float)
    age_weights = np.interp(np.arange(101), knots[:, 0], knots[:, 1])
    age = rng.choice(101, size=n, p=age_weights / age_weights.sum())
    birth_year = reference_year - 1 - age
    birth_month = rng.integers(1, 13, size=n)
    codes = np.array(list(ref.DEPARTMENTS))
    weights = np.array(list(ref.DEPARTMENTS.values()), dtype=float)
    department = codes[rng.choice(len(codes), size=n, p=weights / weights.sum())]
    columns = attributes(
        rng,
        sex=sex,
        birth_year=birth_year,
        birth_month=birth_month,
        department=department,
        reference_year=reference_year,
    )
    frame = pd.DataFrame(
        {
            "person_id": [f"{prefix}{i:09d}" for i in range(n)],
            "sex": sex.astype(np.int64),
            "department": department,
            **columns,
        }
    )
    return frame


@dataclass(frozen=True)
class CorruptionRates:
    """Per-record probabilities of each error an external source makes."""

    first_name_typo: float = 0.08
    surname_typo: float = 0.08
    # The cohort records the birth name, or a hyphenated double name.
    name_variant: float = 0.06
    day_month_swap: float = 0.03
    birth_date_typo: float = 0.03
    moved: float = 0.10
    missing_first_name: float = 0.01
    missing_birth_date: float = 0.01
    missing_postcode: float = 0.04
    missing_sex: float = 0.01
    wrong_sex: float = 0.003
    duplicate: float = 0.05
    # Written in mixed case and with accents by a person rather than a system.
    free_case: float = 0.2

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must lie between 0 and 1")


def corrupt(
    frame: pd.DataFrame,
    rng: np.random.Generator,
    rates: CorruptionRates | None = None,
    *,
    record_prefix: str = "R",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """An external cohort recording the people of ``frame``, with errors.

    ``frame`` has the columns of :func:`people` (``person_id`` may be null for
    people the other side does not know). Returns ``(cohort, truth)``: the
    cohort has :data:`COHORT_COLUMNS` only; ``truth`` maps each ``record_id``
    to its ``person_id``.
    """
    rates = rates or CorruptionRates()
    source = frame.reset_index(drop=True)
    copies = np.ones(len(source), dtype=np.int64) + (rng.random(len(source)) < rates.duplicate)
    rows = source.loc[np.repeat(np.arange(len(source)), copies)].reset_index(drop=True)
    n = len(rows)
    order = rng.permutation(n)
    rows = rows.iloc[order].reset_index(drop=True)

    first = rows["first_name"].to_numpy(dtype=object).copy()
    surname = rows["surname"].to_numpy(dtype=object).copy()
    birth_name = rows["birth_name"].to_numpy(dtype=object)
    dates = rows["birth_date"].to_numpy(dtype="datetime64[D]")
    postcode = rows["postcode"].to_numpy(dtype=object).copy()
    sex = rows["sex"].astype("Int64").astype(str).to_numpy(dtype=object)

    wrong = rng.random(n) < rates.wrong_sex
    sex[wrong] = np.where(sex[wrong] == "1", "2", "1")
    variant = rng.random(n) < rates.name_variant
    for i in np.flatnonzero(variant):
        surname[i] = _name_variant(rng, str(surname[i]), str(birth_name[i]))
    for i in np.flatnonzero(rng.random(n) < rates.first_name_typo):
        first[i] = typo(rng, str(first[i]))
    for i in np.flatnonzero(rng.random(n) < rates.surname_typo):
        surname[i] = typo(rng, str(surname[i]))

    text_dates = np.array([_date_text(d) for d in dates.tolist()], dtype=object)
    for i in np.flatnonzero(rng.random(n) < rates.day_month_swap):
        text_dates[i] = _swap_day_month(rng, dates[i].item())
    for i in np.flatnonzero(rng.random(n) < rates.birth_date_typo):
        text_dates[i] = _date_typo(rng, dates[i].item())

    movers = np.flatnonzero(rng.random(n) < rates.moved)
    if len(movers):
        _, new_postcode = places(rng, _moved_department(rng, rows["department"].to_numpy()[movers]))
        postcode[movers] = new_postcode

    free = rng.random(n) < rates.free_case
    first = np.where(free, [_free_case(str(v)) for v in first], first)
    surname = np.where(free, [_free_case(str(v)) for v in surname], surname)

    for column, rate in (
        (first, rates.missing_first_name),
        (text_dates, rates.missing_birth_date),
        (postcode, rates.missing_postcode),
        (sex, rates.missing_sex),
    ):
        column[rng.random(n) < rate] = None

    record_id = np.array([f"{record_prefix}{i:07d}" for i in range(n)], dtype=object)
    cohort = pd.DataFrame(
        {
            "record_id": record_id,
            "first_name": first,
            "surname": surname,
            "birth_date": text_dates,
            "sex": sex,
            "postcode": postcode,
        }
    )
    truth = pd.DataFrame({"record_id": record_id, "person_id": rows["person_id"].to_numpy()})
    return cohort, truth


def external_cohort(
    identities: pd.DataFrame,
    *,
    size: int,
    seed: int = 0,
    outsiders: float = 0.1,
    rates: CorruptionRates | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A cohort of about ``size`` records: people sampled from ``identities`` plus a
    share of ``outsiders`` the identities do not hold (their truth is null)."""
    rng = np.random.default_rng([seed, 0xC0])
    inside = round(size * (1 - outsiders))
    sample = identities.iloc[rng.choice(len(identities), size=inside, replace=False)]
    strangers = people(size - inside, seed=seed + 1_000_003, prefix="X")
    strangers["person_id"] = None
    frame = pd.concat([sample, strangers], ignore_index=True)
    return corrupt(frame, rng, rates)


def typo(rng: np.random.Generator, value: str) -> str:
    """One insertion, deletion, substitution or transposition of adjacent letters."""
    if not value:
        return value
    kind = rng.integers(0, 4)
    position = int(rng.integers(0, len(value)))
    letter = str(_LETTERS[rng.integers(0, len(_LETTERS))])
    if kind == 0:
        return value[:position] + letter + value[position:]
    if kind == 1 and len(value) > 2:
        return value[:position] + value[position + 1 :]
    if kind == 3 and len(value) > 1:
        position = min(position, len(value) - 2)
        return value[:position] + value[position + 1] + value[position] + value[position + 2 :]
    return value[:position] + letter + value[position + 1 :]


def _name_variant(rng: np.random.Generator, surname: str, birth_name: str) -> str:
    if birth_name != surname and rng.random() < 0.6:
        # A married woman recorded under her birth name, or under both.
        return birth_name if rng.random() < 0.6 else f"{surname}-{birth_name}"
    other = str(surnames(rng, 1)[0])
    return f"{surname}-{other}" if rng.random() < 0.5 else f"{other}-{surname}"


def _date_text(value: dt.date) -> str:
    return value.isoformat()


def _swap_day_month(rng: np.random.Generator, value: dt.date) -> str:
    if value.day <= 12 and value.day != value.month:
        return dt.date(value.year, value.day, value.month).isoformat()
    return _date_typo(rng, value)


def _date_typo(rng: np.random.Generator, value: dt.date) -> str:
    """A wrong digit in the day, the month or the year's last digit; still a valid date."""
    for _ in range(10):
        part = rng.integers(0, 3)
        year, month, day = value.year, value.month, value.day
        if part == 0:
            day = day // 10 * 10 + int(rng.integers(0, 10))
        elif part == 1:
            month = int(rng.integers(1, 13))
        else:
            year = year // 10 * 10 + int(rng.integers(0, 10))
        if 1 <= day <= calendar.monthrange(year, month)[1] and (year, month, day) != (
            value.year,
            value.month,
            value.day,
        ):
            return dt.date(year, month, day).isoformat()
    return value.isoformat()


def _moved_department(rng: np.random.Generator, department: np.ndarray) -> np.ndarray:
    """Most moves stay in the département; the others go anywhere, by population."""
    codes = np.array(list(ref.DEPARTMENTS))
    weights = np.array(list(ref.DEPARTMENTS.values()), dtype=float)
    elsewhere = codes[rng.choice(len(codes), size=len(department), p=weights / weights.sum())]
    result: np.ndarray = np.where(rng.random(len(department)) < 0.6, department, elsewhere)
    return result


def _free_case(value: str) -> str:
    """``JEAN-PIERRE`` as a person types it: ``Jean-Pierre``, sometimes with an accent."""
    titled = value.title()
    if "E" in value[1:] and len(value) % 3 == 0:
        index = titled.lower().find("e", 1)
        titled = titled[:index] + "é" + titled[index + 1 :]
    return titled
