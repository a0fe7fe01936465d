"""A realistic synthetic SNDS: beneficiaries, care lines, hospital stays, deaths.

Generated beneficiary batch by beneficiary batch with numpy and written to
Parquet as it goes, so memory stays flat and time grows linearly with size.
Each batch has its own random stream derived from (seed, batch number): the
same seed gives the same files. Column names and types come from the
catalogued SNDS schema; what the generator does not model stays null.

Synthetic NIRs with valid keys are written only to the separate identity
output (``IR_IDENTITE``), never to the pseudonymised tables.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from hdh.engines import files
from hdh.keys import pseudonyms as pseudonyms_service
from hdh.keys.store import default_store
from hdh.synth import identity, nir, snds_care
from hdh.synth import snds_reference as ref
from hdh.synth.arrow import TableWriters, take
from hdh.synth.births import BirthRegister
from hdh.synth.schema import FieldShape, TableShape, snds_shapes

TABLES = ["IR_BEN_R", "ER_PRS_F", "ER_PHA_F", "ER_BIO_F", "T_MCOaaB", "T_MCOaaC", "KI_CCI_R"]
IDENTITY = TableShape(
    "IR_IDENTITE",
    (
        FieldShape("BEN_NIR_PSA", "string", length="17"),
        FieldShape("BEN_RNG_GEM", "integer", length="2"),
        FieldShape("BEN_NIR", "string", length="15"),
        FieldShape("BEN_NAI_DTE", "date"),
        FieldShape("BEN_SEX_COD", "integer", length="1"),
        *identity.SNDS_FIELDS,
    ),
    primary_key=("BEN_NIR_PSA", "BEN_RNG_GEM"),
)
_LETTERS = str.maketrans("0123456789ABCDEF", "ABCDEFGHJKLMNQRS")
COUNTRIES_OF_BIRTH = ["99350", "99139", "99352", "99351", "99134", "99127", "99109", "99333"]


@dataclass(frozen=True)
class SndsSpec:
    beneficiaries: int
    seed: int = 0
    start: dt.date = dt.date(2023, 1, 1)
    days: int = 365
    batch: int = 20_000

    def __post_init__(self) -> None:
        if self.beneficiaries < 1 or self.days < 1 or self.batch < 1:
            raise ValueError("beneficiaries, days and batch must be positive")


@dataclass
class SndsResult:
    folder: Path
    identity: Path
    rows: dict[str, int] = field(default_factory=dict)


def beneficiaries_for(care_rows: int, days: int = 365) -> int:
    """How many beneficiaries give about ``care_rows`` ER_PRS_F rows over ``days``."""
    return max(1, round(care_rows / (mean_care_rate() * days / 365)))


def mean_care_rate() -> float:
    ages = np.arange(101)
    return float(np.sum(age_weights() * _by_age(ref.CARE_RATE, ages)))


def age_weights() -> np.ndarray:
    knots = np.array(ref.AGE_KNOTS, dtype=float)
    weights = np.interp(np.arange(101), knots[:, 0], knots[:, 1])
    return weights / weights.sum()


def _by_age(bands: list[tuple[int, float]], age: np.ndarray) -> np.ndarray:
    bounds = np.array([b for b, _ in bands])
    rates = np.array([r for _, r in bands])
    return rates[np.searchsorted(bounds, age, side="right") - 1]


def pseudonyms(index: np.ndarray, salt: int, prefix: str) -> np.ndarray:
    """17-character ids, unique per index: a bijective 64-bit mix, written in letters."""
    x = index.astype(np.uint64)
    with np.errstate(over="ignore"):
        x += np.uint64(salt % 2**64)
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    # Letters only: a pseudonym never looks like a NIR to the log guards.
    return np.array([f"{prefix}{v:016X}".translate(_LETTERS) for v in x.tolist()], dtype="U17")


def generate(
    *,
    spec: SndsSpec,
    out: Path,
    identity_out: Path,
    shapes: dict[str, TableShape] | None = None,
    level1_key: bytes | None = None,
) -> SndsResult:
    """Write the synthetic SNDS to ``out/<TABLE>/`` and identities to ``identity_out``.

    Person pseudonyms are level-1 pseudonyms of the synthetic identities under
    ``level1_key`` (the key store's current level-1 key when not given). Both
    folders appear only when complete (written aside, then renamed).
    """
    if level1_key is None:
        level1_key = default_store().level1_key()[1]
    shapes = shapes or snds_shapes(TABLES)
    result = SndsResult(out, identity_out)
    with files.atomic_path(out) as folder, files.atomic_path(identity_out) as identity_folder:
        tables = TableWriters(folder, {name: shapes[name] for name in TABLES})
        identities = TableWriters(identity_folder, {IDENTITY.name: IDENTITY})
        try:
            register = BirthRegister(list(ref.DEPARTMENTS), COUNTRIES_OF_BIRTH)
            for number, first in enumerate(range(0, spec.beneficiaries, spec.batch)):
                size = min(spec.batch, spec.beneficiaries - first)
                _batch(spec, number, first, size, tables, identities, level1_key, register)
        finally:
            tables.close()
            identities.close()
        result.rows = {**tables.rows, **identities.rows}
    return result


def _batch(
    spec: SndsSpec,
    number: int,
    first: int,
    n: int,
    tables: TableWriters,
    identities: TableWriters,
    level1_key: bytes,
    register: BirthRegister,
) -> None:
    rng = np.random.default_rng([spec.seed, number])
    index = np.arange(first, first + n, dtype=np.int64)
    salt = spec.seed * 0x9E3779B97F4A7C15
    sex = rng.choice(np.array([1, 2]), size=n, p=[0.485, 0.515])
    age = rng.choice(101, size=n, p=age_weights())
    birth_year = spec.start.year - 1 - age
    birth_month = rng.integers(1, 13, size=n)
    codes = np.array(list(ref.DEPARTMENTS))
    weights = np.array(list(ref.DEPARTMENTS.values()), dtype=float)
    department_index = rng.choice(len(codes), size=n, p=weights / weights.sum())
    department = codes[department_index]
    # Annual death probability, Gompertz-like; deaths fall uniformly in the period.
    death_probability = np.minimum(0.5, np.exp(-9.8 + 0.088 * (age + 0.5))) * spec.days / 365
    dies = rng.random(n) < death_probability
    death_day = np.where(dies, rng.integers(0, spec.days, size=n), spec.days)
    start = np.datetime64(spec.start, "D")
    death_date = np.where(dies, start + death_day, np.datetime64("NaT"))

    # Identities come from their own stream, so the care data of a seed stays the same.
    identity_rng = np.random.default_rng([spec.seed, number, 1])
    place, order = register.register(
        sex=sex,
        birth_year=birth_year,
        birth_month=birth_month,
        department=department,
        born_abroad=identity_rng.random(n) < 0.07,
    )
    birth_nir = nir.build(
        sex=sex, birth_year=birth_year, birth_month=birth_month, place=place, order=order
    )
    birth_date = _birth_dates(identity_rng, birth_year, birth_month)
    # Everyone is their own ouvreur de droit here: BEN_NIR_ANO equals BEN_NIR_PSA.
    psa = pa.array(_level1(birth_nir, birth_date, sex, level1_key))
    people = snds_care.People(
        psa=psa,
        ano=psa,
        idt=pa.array(pseudonyms(index, salt + 3, "I")),
        sex=sex,
        age=age,
        birth_year=birth_year,
        department=pa.array(department),
        department_index=department_index,
        organisation=take(pa.array(list(ref.ORGANISATIONS.values())), department_index),
        end_day=death_day,
        dies=dies,
    )
    max_treatment = snds_care.care_lines(spec, number, rng, people, tables)
    snds_care.hospital_stays(spec, number, rng, people, tables)
    snds_care.deaths(spec, rng, people, tables)

    months = np.char.zfill(birth_month.astype("U2"), 2)
    death_ym = np.where(dies, np.datetime_as_string(death_date, unit="M"), "")
    tables.write(
        "IR_BEN_R",
        {
            "BEN_NIR_PSA": people.psa,
            "BEN_RNG_GEM": np.ones(n, dtype=np.int64),
            "BEN_NIR_ANO": people.ano,
            "BEN_IDT_ANO": people.idt,
            "BEN_IDT_TOP": np.ones(n, dtype=bool),
            "ASS_NIR_ANO": people.ano,
            "BEN_CDI_NIR": take(pa.array(["00"]), np.zeros(n, dtype=np.int32)),
            "BEN_NAI_ANN": birth_year,
            "BEN_NAI_MOI": months,
            "BEN_SEX_COD": sex,
            "BEN_DCD_DTE": death_date.astype("datetime64[D]"),
            "BEN_DCD_AME": pa.array(np.char.replace(death_ym, "-", ""), mask=~dies),
            "ORG_AFF_BEN": people.organisation,
            "BEN_RES_DPT": people.department,
            "BEN_TOP_CNS": max_treatment >= 0,
            "MAX_TRT_DTD": np.where(
                max_treatment >= 0, start + max_treatment, np.datetime64("NaT")
            ),
            "ORG_CLE_NEW": people.organisation,
            "BEN_DTE_INS": np.maximum(birth_year, 2006).astype("U4").astype("datetime64[D]"),
            "BEN_DTE_MAJ": np.full(n, start),
        },
        n,
    )
    identities.write(
        IDENTITY.name,
        {
            "BEN_NIR_PSA": people.psa,
            "BEN_RNG_GEM": np.ones(n, dtype=np.int64),
            "BEN_NIR": birth_nir,
            "BEN_NAI_DTE": birth_date,
            "BEN_SEX_COD": sex,
            # Names and residence, for linking external cohorts (drawn last: the
            # columns above stay the same for a seed).
            **identity.snds_columns(
                identity_rng,
                sex=sex,
                birth_year=birth_year,
                department=department,
                reference_year=spec.start.year,
            ),
        },
        n,
    )


def _birth_dates(
    rng: np.random.Generator, birth_year: np.ndarray, birth_month: np.ndarray
) -> np.ndarray:
    years = np.char.zfill(birth_year.astype("U4"), 4).astype("datetime64[Y]")
    first = years.astype("datetime64[M]") + (birth_month.astype(np.int64) - 1)
    length = ((first + 1).astype("datetime64[D]") - first.astype("datetime64[D]")).astype(int)
    day = np.floor(rng.random(len(first)) * length).astype(np.int64)
    return first.astype("datetime64[D]") + day


def _level1(nirs: np.ndarray, birth_dates: np.ndarray, sex: np.ndarray, key: bytes) -> np.ndarray:
    """Level-1 pseudonyms, one HMAC per person (the NIRs are built valid)."""
    days = np.datetime_as_string(birth_dates, unit="D").tolist()
    return np.array(
        [
            pseudonyms_service.level1_unchecked(value, day, int(s), key)
            for value, day, s in zip(nirs.tolist(), days, sex.tolist(), strict=True)
        ],
        dtype="U17",
    )
