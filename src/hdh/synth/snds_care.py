"""Care lines (DCIR), hospital stays (PMSI MCO) and deaths of one beneficiary batch.

Every event of a person falls between the start of the period and their death
(or the end of the period); stays that end in death end on the death date.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from hdh.synth import snds_reference as ref
from hdh.synth.arrow import take

if TYPE_CHECKING:
    from hdh.synth.arrow import TableWriters
    from hdh.synth.snds import SndsSpec

FLOW_KEY = (
    "DCT_ORD_NUM",
    "FLX_DIS_DTD",
    "FLX_EMT_NUM",
    "FLX_EMT_ORD",
    "FLX_EMT_TYP",
    "FLX_TRT_DTD",
    "ORG_CLE_NUM",
    "PRS_ORD_NUM",
    "REM_TYP_AFF",
)


@dataclass
class People:
    psa: pa.Array
    ano: pa.Array
    idt: pa.Array
    sex: np.ndarray
    age: np.ndarray
    birth_year: np.ndarray
    department: pa.Array
    department_index: np.ndarray
    organisation: pa.Array
    end_day: np.ndarray  # first day not lived in the period (death day, or period length)
    dies: np.ndarray


def _rate(bands: list[tuple[int, float]], age: np.ndarray) -> np.ndarray:
    bounds = np.array([b for b, _ in bands])
    rates = np.array([r for _, r in bands])
    return rates[np.searchsorted(bounds, age, side="right") - 1]


def _year_month(dates: np.ndarray) -> pa.Array:
    """ "YYYYMM" text of each date, through a lookup of the few months spanned."""
    months = dates.astype("datetime64[M]").astype(np.int64)
    if not len(months):
        return pa.array([], type=pa.string())
    low = int(months.min())
    labels = [f"{1970 + m // 12:04d}{m % 12 + 1:02d}" for m in range(low, int(months.max()) + 1)]
    return take(pa.array(labels), months - low)


def _month(dates: np.ndarray) -> pa.Array:
    months = dates.astype("datetime64[M]").astype(np.int64) % 12
    return take(pa.array([f"{m:02d}" for m in range(1, 13)]), months)


def care_lines(
    spec: SndsSpec, number: int, rng: np.random.Generator, people: People, out: TableWriters
) -> np.ndarray:
    """ER_PRS_F with ER_PHA_F and ER_BIO_F; returns each person's last processing day."""
    exposure = people.end_day / spec.days
    mean = _rate(ref.CARE_RATE, people.age) * spec.days / 365 * exposure
    # Gamma-Poisson: a few people consume much more than most.
    count = rng.poisson(rng.gamma(1.5, mean / 1.5))
    owner = np.repeat(np.arange(len(count)), count)
    m = len(owner)
    day = np.floor(rng.random(m) * people.end_day[owner]).astype(np.int64)
    natures = np.array(list(ref.NATURES))
    share, linked, fee, rate = (np.array(v) for v in zip(*ref.NATURES.values(), strict=True))
    kind = rng.choice(len(natures), size=m, p=share / share.sum())
    start = np.datetime64(spec.start, "D")
    care = start + day
    lag = rng.geometric(1 / 12, size=m)
    processed = care + lag
    available = (processed.astype("datetime64[M]") + 1).astype("datetime64[D]")
    paid = np.round(fee[kind] * rng.lognormal(0.0, 0.35, size=m), 2)
    reimbursed = np.maximum(0.0, np.round(paid * rate[kind] / 100 - (kind < 4), 2))
    specialty = np.where(
        natures[kind] == 1112,
        rng.choice(list(ref.SPECIALTIES), size=m, p=list(ref.SPECIALTIES.values())),
        np.where(np.isin(natures[kind], [1111, 1191, 1211]), 1, -1),
    )
    sequence = np.arange(1, m + 1, dtype=np.int64)
    key = {
        "DCT_ORD_NUM": sequence,
        "FLX_DIS_DTD": available,
        "FLX_EMT_NUM": np.full(m, number // 10_000 + 1),
        "FLX_EMT_ORD": np.full(m, number % 10_000),
        "FLX_EMT_TYP": np.ones(m, dtype=np.int64),
        "FLX_TRT_DTD": processed,
        "ORG_CLE_NUM": take(people.organisation, owner),
        "PRS_ORD_NUM": np.ones(m, dtype=np.int64),
        "REM_TYP_AFF": np.ones(m, dtype=np.int64),
    }
    out.write(
        "ER_PRS_F",
        {
            **key,
            "BEN_NIR_PSA": take(people.psa, owner),
            "BEN_RNG_GEM": np.ones(m, dtype=np.int64),
            "BEN_SEX_COD": people.sex[owner],
            "BEN_NAI_ANN": people.birth_year[owner],
            # IR_AMA_V: under two, age in months coded 1000 + months.
            "BEN_AMA_COD": np.where(
                people.age[owner] < 2,
                1000 + people.age[owner] * 12 + rng.integers(0, 12, size=m),
                people.age[owner],
            ),
            "BEN_RES_DPT": take(people.department, owner),
            "ORG_AFF_BEN": take(people.organisation, owner),
            "BEN_CDI_NIR": take(pa.array(["00"]), np.zeros(m, dtype=np.int32)),
            "EXE_SOI_DTD": care,
            "EXE_SOI_DTF": care,
            "EXE_SOI_AMD": _year_month(care),
            "PRS_NAT_REF": natures[kind],
            "BSE_PRS_NAT": natures[kind],
            "PRS_ACT_QTE": np.ones(m),
            "PRS_PAI_MNT": paid,
            "BSE_REM_BSE": paid,
            "BSE_REM_MNT": reimbursed,
            "RGO_REM_TAU": rate[kind].astype(float),
            "PSE_SPE_COD": pa.array(specialty, mask=specialty < 0),
            "ORG_CLE_NEW": take(people.organisation, owner),
        },
        m,
    )
    _details(rng, out, key, linked[kind] == "PHA", "ER_PHA_F", _pharmacy)
    _details(rng, out, key, linked[kind] == "BIO", "ER_BIO_F", _biology)
    last = np.full(len(count), -1, dtype=np.int64)
    np.maximum.at(last, owner, (processed - start).astype(np.int64))
    return last


def _details(
    rng: np.random.Generator,
    out: TableWriters,
    key: dict[str, np.ndarray | pa.Array],
    selected: np.ndarray,
    table: str,
    columns: object,
) -> None:
    rows = np.flatnonzero(selected)
    lines = 1 + np.minimum(rng.poisson(0.8 if table == "ER_PHA_F" else 2.5, size=len(rows)), 9)
    parent = np.repeat(rows, lines)
    order = np.arange(len(parent)) - np.repeat(np.cumsum(lines) - lines, lines) + 1
    values = {
        name: take(v, parent) if isinstance(v, pa.Array) else v[parent] for name, v in key.items()
    }
    assert callable(columns)
    values.update(columns(rng, len(parent), order))
    values["ORG_CLE_NEW"] = values["ORG_CLE_NUM"]
    out.write(table, values, len(parent))


def _pharmacy(rng: np.random.Generator, k: int, order: np.ndarray) -> dict[str, object]:
    # A few thousand presentations, a few very common (Zipf-like).
    product = np.minimum(rng.zipf(1.3, size=k), 3000)
    price = np.round(np.minimum(rng.lognormal(2.2, 0.9, size=k), 24_000), 2)
    return {
        "PHA_ORD_NUM": order,
        "PHA_PRS_C13": 3_400_930_000_000 + product * 37,
        "PHA_PRS_IDE": 3_000_000 + product * 37,
        "PHA_ACT_QSN": rng.choice([1, 2, 3], size=k, p=[0.8, 0.15, 0.05]),
        "PHA_ACT_PRU": price,
    }


def _biology(rng: np.random.Generator, k: int, order: np.ndarray) -> dict[str, object]:
    return {
        "BIO_ORD_NUM": order,
        "BIO_PRS_IDE": np.array(ref.BIOLOGY)[rng.integers(0, len(ref.BIOLOGY), size=k)],
        "BIO_ACT_QSN": np.ones(k, dtype=np.int64),
    }


def hospital_stays(
    spec: SndsSpec, number: int, rng: np.random.Generator, people: People, out: TableWriters
) -> None:
    """PMSI MCO stays (T_MCOaaB) and their link to the beneficiary (T_MCOaaC)."""
    exposure = people.end_day / spec.days
    count = rng.poisson(_rate(ref.STAY_RATE, people.age) * spec.days / 365 * exposure)
    owner = np.repeat(np.arange(len(count)), count)
    length = np.where(rng.random(len(owner)) < 0.45, 0, rng.geometric(1 / 5, size=len(owner)))
    entry = np.floor(rng.random(len(owner)) * people.end_day[owner]).astype(np.int64)
    leave = np.minimum(entry + length, np.minimum(people.end_day[owner], spec.days) - 1)
    mode = np.where(rng.random(len(owner)) < 0.05, "7", "8")
    # About 45 % of deaths happen in hospital, at the end of a stay.
    dying = np.flatnonzero(people.dies & (rng.random(len(people.dies)) < 0.45))
    death_length = rng.geometric(1 / 7, size=len(dying))
    owner = np.concatenate([owner, dying])
    leave = np.concatenate([leave, people.end_day[dying]])
    entry = np.concatenate([entry, np.maximum(0, people.end_day[dying] - death_length)])
    mode = np.concatenate([mode, np.full(len(dying), "9")])
    m = len(owner)
    codes = np.array(list(ref.DIAGNOSES))
    share, root, sex_rule, min_age = (
        np.array(v) for v in zip(*ref.DIAGNOSES.values(), strict=True)
    )
    pick = rng.choice(len(codes), size=m, p=share / share.sum())
    age = people.age[owner]
    eligible = ((sex_rule[pick] == 0) | (people.sex[owner] == sex_rule[pick])) & (
        age >= min_age[pick]
    )
    fallback = np.where(
        age >= 10, list(ref.DIAGNOSES).index("R55"), list(ref.DIAGNOSES).index("J189")
    )
    pick = np.where(eligible, pick, fallback)
    severity = rng.choice(np.array(["1", "2", "3", "4"]), size=m, p=[0.6, 0.25, 0.1, 0.05])
    roots = root[pick]
    medical = np.char.str_len(roots) == 5
    suffix = np.where(np.char.find(roots, "Z") == 2, "Z", np.where(leave == entry, "J", severity))
    start = np.datetime64(spec.start, "D")
    entered, left = start + entry, start + leave
    hospital = 100_000_000 + people.department_index[owner] * 1_000 + rng.integers(0, 20, size=m)
    summary = 1_000_000_000 + number * 1_000_000 + np.arange(m)
    key = {"ETA_NUM": hospital, "RSA_NUM": summary}
    out.write(
        "T_MCOaaB",
        {
            **key,
            "DGN_PAL": pa.array(codes[pick]),
            "GRG_GHM": pa.array(np.char.add(roots, suffix)),
            "GRG_VER": take(pa.array(["11"]), np.zeros(m, dtype=np.int32)),
            "RSS_NUM": take(pa.array(["224"]), np.zeros(m, dtype=np.int32)),
            "GHS_NUM": 1000 + rng.integers(0, 9000, size=m) * medical,
            "SEJ_NBJ": leave - entry,
            "AGE_ANN": pa.array(age, mask=age < 1),
            "AGE_JOU": pa.array(rng.integers(0, 365, size=m), mask=age >= 1),
            "COD_SEX": people.sex[owner].astype("U1"),
            "BDI_DEP": pa.array(
                [
                    d[1:] if d[0] == "0" else d[:2]
                    for d in take(people.department, owner).to_pylist()
                ]
            ),
            "ENT_MOD": np.full(m, "8"),
            "SOR_MOD": mode,
            "SOR_ANN": left.astype("datetime64[Y]").astype(int) + 1970,
            "SOR_MOI": _month(left),
        },
        m,
    )
    out.write(
        "T_MCOaaC",
        {
            **key,
            "NIR_ANO_17": take(people.psa, owner),
            "EXE_SOI_DTD": entered.astype("datetime64[us]"),
            "EXE_SOI_DTF": left.astype("datetime64[us]"),
            "ENT_DAT": entered,
            "SOR_DAT": left,
            "ENT_AM": _year_month(entered),
            "SOR_AM": _year_month(left),
            "EXE_SOI_AMD": _year_month(entered),
            "EXE_SOI_AMF": _year_month(left),
            "SOR_ANN": left.astype("datetime64[Y]").astype(int) + 1970,
            "SOR_MOI": _month(left),
            "SEJ_NUM": 10_000 + np.arange(m),
            "NIR_RET": np.zeros(m, dtype=bool),
            "SEX_RET": np.zeros(m, dtype=bool),
            "SEJ_RET": np.zeros(m, dtype=bool),
            "FHO_RET": np.zeros(m, dtype=bool),
            "PMS_RET": np.zeros(m, dtype=bool),
            "NAI_RET": np.full(m, "0"),
            "DAT_RET": np.full(m, "0"),
        },
        m,
    )


def deaths(spec: SndsSpec, rng: np.random.Generator, people: People, out: TableWriters) -> None:
    """Medical causes of death (CépiDc, KI_CCI_R) of the batch's decedents."""
    who = np.flatnonzero(people.dies)
    k = len(who)
    date = np.datetime64(spec.start, "D") + people.end_day[who]
    causes = np.array(list(ref.DEATH_CAUSES))
    share = np.array(list(ref.DEATH_CAUSES.values()))
    out.write(
        "KI_CCI_R",
        {
            "BEN_IDT_ANO": take(people.idt, who),
            "BEN_IDT_TOP": np.ones(k, dtype=np.int64),
            "BEN_NIR_ANO": take(people.ano, who),
            "DCD_IDT_TOP": np.ones(k, dtype=np.int64),
            "FLX_PER_ANN": date.astype("datetime64[Y]").astype(int) + 1970,
            "BEN_DCD_DTE": date,
            "BEN_DCD_AME": _year_month(date),
            "BEN_NAI_ANN": people.birth_year[who],
            "BEN_SEX_COD": people.sex[who],
            "BEN_RES_DPT": take(people.department, who),
            "DCD_DPT_COD": take(people.department, who),
            "DCD_CIM_COD": pa.array(causes[rng.choice(len(causes), size=k, p=share / share.sum())]),
        },
        k,
    )
