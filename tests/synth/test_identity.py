from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from hdh.synth import identity


@pytest.fixture(scope="module")
def crowd() -> pd.DataFrame:
    return identity.people(20_000, seed=3)


def test_the_same_seed_gives_the_same_people_and_another_does_not():
    first, again, other = (identity.people(500, seed=s) for s in (1, 1, 2))
    pd.testing.assert_frame_equal(first, again)
    assert not first[["first_name", "surname"]].equals(other[["first_name", "surname"]])


def test_attributes_are_complete_upper_case_and_consistent(crowd):
    for column in ("first_name", "surname", "birth_name", "postcode", "commune"):
        values = crowd[column]
        assert values.notna().all()
        assert values.str.fullmatch(r"[A-Z0-9][A-Z0-9' -]*").all(), column
    # Postcode and commune lie in the département of residence.
    prefix = crowd["department"].map(lambda d: d[1:] if d.startswith("0") else d)
    corsica = prefix.isin(["2A", "2B"])
    assert (crowd.loc[~corsica, "postcode"].str[:2] == prefix[~corsica].str[:2]).all()
    assert crowd.loc[corsica, "postcode"].str.startswith("20").all()
    assert (crowd["commune"].str[:2] == prefix.str[:2]).all()
    assert crowd["postcode"].str.fullmatch(r"[0-9]{5}").all()
    birth = pd.to_datetime(crowd["birth_date"])
    assert birth.dt.year.between(1920, 2022).all()


def test_birth_dates_keep_the_year_and_month_they_are_given():
    rng = np.random.default_rng(0)
    year = np.array([1950, 2000, 2020, 2024])
    month = np.array([2, 2, 12, 2])
    dates = identity.birth_dates(rng, year, month).astype(dt.date).tolist()
    assert [(d.year, d.month) for d in dates] == list(zip(year, month, strict=True))


def test_first_names_depend_on_sex_and_generation(crowd):
    men, women = crowd[crowd["sex"] == 1], crowd[crowd["sex"] == 2]
    assert not set(men["first_name"]) & set(women["first_name"])
    old = crowd[pd.to_datetime(crowd["birth_date"]).dt.year < 1950]["first_name"]
    young = crowd[pd.to_datetime(crowd["birth_date"]).dt.year > 2005]["first_name"]
    assert old.value_counts().index[0] != young.value_counts().index[0]
    # Married women mostly: a usage name that differs from the birth name.
    married = crowd["surname"] != crowd["birth_name"]
    assert 0.1 < married[crowd["sex"] == 2].mean() < 0.5
    assert not married[crowd["sex"] == 1].any()
    # A long tail of surnames, so that names discriminate.
    assert crowd["surname"].nunique() > 1_000


def test_typo_changes_a_name_by_one_edit():
    rng = np.random.default_rng(1)
    changed = [identity.typo(rng, "DUPONT") for _ in range(200)]
    assert all(abs(len(value) - 6) <= 1 for value in changed)
    # A substitution may draw the letter it replaces; nearly every typo shows.
    assert sum(value != "DUPONT" for value in changed) > 180
    assert {len(value) for value in changed} == {5, 6, 7}


def test_corrupt_makes_every_kind_of_error_and_keeps_the_truth_aside(crowd):
    sample = crowd.iloc[:5_000]
    cohort, truth = identity.corrupt(sample, np.random.default_rng(5))
    assert list(cohort.columns) == list(identity.COHORT_COLUMNS)
    assert "person_id" not in cohort.columns
    assert cohort["record_id"].is_unique
    assert list(truth["record_id"]) == list(cohort["record_id"])
    # About 5% duplicates: some people appear twice under different records.
    assert 1.02 < len(cohort) / len(sample) < 1.09
    assert truth["person_id"].duplicated().sum() == len(cohort) - len(sample)

    joined = cohort.merge(truth, on="record_id").merge(
        sample, on="person_id", suffixes=("", "_true")
    )
    same_first = joined["first_name"].str.upper() == joined["first_name_true"]
    assert 0.85 < same_first.mean() < 0.97
    true_date = joined["birth_date_true"].astype(str)
    swapped = (
        (joined["birth_date"].str[5:7] == true_date.str[8:10])
        & (joined["birth_date"].str[8:10] == true_date.str[5:7])
        & (true_date.str[5:7] != true_date.str[8:10])
    )
    assert swapped.sum() > 10
    assert joined["birth_date"].isna().sum() > 10
    assert (
        joined["postcode"].notna() & (joined["postcode"] != joined["postcode_true"])
    ).mean() > 0.05
    assert joined["postcode"].isna().mean() > 0.02
    hyphenated = joined["surname"].str.contains("-", na=False) & ~joined[
        "surname_true"
    ].str.contains("-")
    assert hyphenated.sum() > 10
    maiden = (joined["surname"].str.upper() == joined["birth_name"]) & (
        joined["surname_true"] != joined["birth_name"]
    )
    assert maiden.sum() > 5
    assert joined["first_name"].str.contains("[a-zé]", na=False).mean() > 0.1


def test_external_cohort_mixes_in_people_the_identities_do_not_hold(crowd):
    cohort, truth = identity.external_cohort(crowd, size=1_000, seed=9, outsiders=0.2)
    assert truth["person_id"].isna().mean() == pytest.approx(0.2, abs=0.03)
    assert set(truth["person_id"].dropna()) <= set(crowd["person_id"])
    again, _ = identity.external_cohort(crowd, size=1_000, seed=9, outsiders=0.2)
    pd.testing.assert_frame_equal(cohort, again)


def test_rates_outside_zero_and_one_are_refused():
    with pytest.raises(ValueError, match="duplicate"):
        identity.CorruptionRates(duplicate=1.5)
