"""Differential tests: our verdicts against the pinned ACRO, cell by cell.

Both sides run on the same frames with ACRO's default thresholds (our
``min_count`` set to ACRO's 10). Every deliberate difference has its own test
below, named after it and listed in docs/adr/0011-disclosure-checks.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hdh.airlock import check

from .acro_oracle import SHARED_RULES, acro_masks, new_session, our_masks

ACRO_POLICY = check.Policy(min_count=10)
# ACRO passes numpy callables to pandas, which warns about it on every call.
pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")


@pytest.fixture(scope="module")
def acro_session():
    return new_session()


def frame(seed: int, rows: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data = pd.DataFrame(
        {
            "age": rng.choice(["0-17", "18-39", "40-64", "65+", "90+", "inconnu"], rows),
            "region": rng.choice(list("ABCDE"), rows, p=[0.4, 0.3, 0.2, 0.07, 0.03]),
            "cost": rng.gamma(1.0, 100.0, rows),
        }
    )
    if seed % 3 == 0:
        data.loc[data.index[:6], "cost"] = 0.0  # all-zero contributions in some cells
    if seed % 4 == 1:
        data.loc[data.index[0], "cost"] = 1e6  # one dominant contributor
    return data


SHAPES = [
    {},
    {"margins": True},
    {"values": "cost", "aggfunc": "mean"},
    {"values": "cost", "aggfunc": "sum"},
    {"values": "cost", "aggfunc": "mean", "margins": True},
]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(
    "shape", SHAPES, ids=lambda s: "-".join(f"{k}={v}" for k, v in s.items()) or "counts"
)
def test_same_table_and_same_cells_as_acro(acro_session, seed, shape) -> None:
    data = frame(seed)
    theirs, their_masks = acro_masks(acro_session, data, "age", "region", **shape)
    ours = check.crosstab(data, "age", "region", policy=ACRO_POLICY, **shape)
    assert ours.table.shape == theirs.shape
    assert np.allclose(ours.table.to_numpy(float), theirs.to_numpy(float), equal_nan=True)
    assert our_masks(ours) == their_masks


def test_a_cell_of_4_is_flagged_by_both(acro_session) -> None:
    data = pd.DataFrame(
        {"sex": ["F"] * 30 + ["M"] * 24, "site": ["x"] * 15 + ["y"] * 15 + ["x"] * 20 + ["y"] * 4}
    )
    _, their_masks = acro_masks(acro_session, data, "sex", "site")
    ours = check.crosstab(data, "sex", "site", policy=ACRO_POLICY)
    assert their_masks["MinimumThresholdCheck"] == {(1, 1)}
    assert our_masks(ours)["MinimumThresholdCheck"] == {(1, 1)}


def test_single_contributor_and_all_zero_cells_fail_p_ratio_in_both(acro_session) -> None:
    data = pd.DataFrame(
        {
            "g": ["a"] * 12 + ["b"] * 12 + ["c"],
            "h": ["x"] * 25,
            "v": [0.0] * 12 + list(np.arange(1.0, 13.0)) + [5.0],
        }
    )
    _, their_masks = acro_masks(acro_session, data, "g", "h", values="v", aggfunc="sum")
    ours = our_masks(check.crosstab(data, "g", "h", values="v", aggfunc="sum", policy=ACRO_POLICY))
    assert their_masks["PPercentCheck"] == ours["PPercentCheck"] == {(0, 0), (2, 0)}
    assert their_masks["NKCheck"] == ours["NKCheck"] == {(2, 0)}


def test_difference_negative_values_are_judged_per_cell(acro_session) -> None:
    """ACRO: one negative value anywhere turns the whole table's NK and p% checks
    into "review" of the negative cells only, so a dominated cell elsewhere is not
    flagged. Ours: dominance is undefined only in the cells that hold a negative
    value (review); the other cells are still checked."""
    rows = 12
    data = pd.DataFrame(
        {
            "g": ["a"] * rows + ["b"] * rows,
            "h": ["x"] * (2 * rows),
            "v": [-1.0] + [10.0] * (rows - 1) + [1e6] + [1.0] * (rows - 1),
        }
    )
    _, their_masks = acro_masks(acro_session, data, "g", "h", values="v", aggfunc="sum")
    ours = check.crosstab(data, "g", "h", values="v", aggfunc="sum", policy=ACRO_POLICY)
    assert their_masks["NKCheck"] == {(0, 0)}  # ACRO's mask is the negative cell
    assert our_masks(ours)["NKCheck"] == {(1, 0)}  # ours: the dominated cell
    assert ours.masks["negative"][0, 0]
    # The negative cell is also suppressed, as the partner of the dominated one.
    assert ours.cell_reasons(0, 0) == ["negative", "secondary"]


def test_difference_threshold_counts_contributors_not_rows(acro_session) -> None:
    """ACRO 1.0.2 counts rows for the threshold of a table of means; 0.4.x and we
    count the contributors (non-missing values), as the research note advises."""
    data = pd.DataFrame(
        {"g": ["a"] * 12 + ["b"] * 12, "h": ["x"] * 24, "v": [np.nan] * 4 + list(range(1, 21))}
    )
    _, their_masks = acro_masks(acro_session, data, "g", "h", values="v", aggfunc="mean")
    ours = check.crosstab(data, "g", "h", values="v", aggfunc="mean", policy=ACRO_POLICY)
    assert their_masks["MinimumThresholdCheck"] == set()  # 12 rows >= 10
    assert our_masks(ours)["MinimumThresholdCheck"] == {(0, 0)}  # 8 values < 10
    assert ours.masks["missing"][0, 0]


def test_shared_rules_are_named_as_acro_names_them() -> None:
    for rule, name in SHARED_RULES.items():
        assert check.CELL_RULES[rule][1] == name
