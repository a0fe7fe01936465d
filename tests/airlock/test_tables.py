"""Each rule on hand-made tables computed from row-level data."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hdh.airlock import check
from hdh.airlock.check import TableError, Verdict
from hdh.airlock.check.evidence import largest


def rows(
    counts: dict[tuple[str, str], int], values: dict[tuple[str, str], list[float]] | None = None
) -> pd.DataFrame:
    records = []
    for (a, b), n in counts.items():
        contributions = (values or {}).get((a, b), [1.0] * n)
        records += [{"a": a, "b": b, "v": x} for x in contributions]
    return pd.DataFrame(records)


def test_a_cell_of_4_fails_the_casd_threshold() -> None:
    data = rows({("F", "x"): 40, ("F", "y"): 30, ("M", "x"): 25, ("M", "y"): 4})
    report = check.crosstab(data, "a", "b")
    assert report.table.loc["M", "y"] == 4
    assert report.verdict is Verdict.FAIL
    assert report.cell_reasons(1, 1) == ["threshold"]
    assert report.cell_verdicts().loc["M", "y"] == "fail"
    assert "moins de" in check.report.MESSAGES["threshold"]


def test_threshold_boundary_is_eleven_by_default() -> None:
    data = rows({("F", "x"): 10, ("F", "y"): 11, ("M", "x"): 11, ("M", "y"): 11})
    masks = check.crosstab(data, "a", "b", policy=check.Policy(secondary_suppression=False)).masks
    assert masks["threshold"].tolist() == [[True, False], [False, False]]


def test_zero_cells_are_flagged() -> None:
    data = rows({("F", "x"): 20, ("F", "y"): 20, ("M", "x"): 20})
    report = check.crosstab(data, "a", "b")
    assert report.table.loc["M", "y"] == 0
    assert "zero" in report.cell_reasons(1, 1)
    relaxed = check.crosstab(data, "a", "b", policy=check.Policy(zeros_disclosive=False))
    assert "zero" not in relaxed.masks


def test_nk_dominance_two_contributors_over_90_percent() -> None:
    values = {("F", "x"): [500.0, 450.0] + [5.0] * 10, ("F", "y"): [10.0] * 12}
    data = rows({("F", "x"): 12, ("F", "y"): 12}, values)
    report = check.crosstab(data, "a", "b", values="v", aggfunc="sum")
    assert report.masks["nk-rule"].tolist() == [[True, False]]
    assert report.masks["threshold"].tolist() == [[False, False]]


def test_p_percent_rule() -> None:
    # (total - x1 - x2) / x1 = (1000 + 9*5 ... ) : second contributor estimates the first.
    values = {("F", "x"): [1000.0, 100.0] + [5.0] * 10, ("F", "y"): [100.0] * 12}
    data = rows({("F", "x"): 12, ("F", "y"): 12}, values)
    report = check.crosstab(data, "a", "b", values="v", aggfunc="mean")
    assert report.masks["p-ratio"].tolist() == [[True, False]]  # 50 / 1000 < 10 %
    assert report.masks["nk-rule"].tolist() == [[True, False]]  # 1100 / 1150 >= 90 %
    loose = check.crosstab(
        data, "a", "b", values="v", aggfunc="mean", policy=check.Policy(p_percent=0.01)
    )
    assert loose.masks["p-ratio"].tolist() == [[False, False]]


def test_negatives_go_to_review_and_missing_values_too() -> None:
    values = {("F", "x"): [-3.0] + [10.0] * 11, ("F", "y"): [np.nan] + [10.0] * 13}
    data = rows({("F", "x"): 12, ("F", "y"): 14}, values)
    report = check.crosstab(data, "a", "b", values="v", aggfunc="mean")
    assert report.cell_verdicts().iloc[0].tolist() == ["review", "review"]
    assert report.verdict is Verdict.REVIEW
    assert report.masks["negative"].tolist() == [[True, False]]
    assert report.masks["missing"].tolist() == [[False, True]]


def test_contributors_are_units_when_a_unit_column_is_given() -> None:
    # 12 rows but only 3 people: under the threshold; one person dominates.
    data = pd.DataFrame(
        {
            "a": ["F"] * 12,
            "b": ["x"] * 12,
            "person": [1] * 10 + [2, 3],
            "v": [100.0] * 10 + [1.0, 1.0],
        }
    )
    by_row = check.crosstab(data, "a", "b", values="v", aggfunc="sum")
    by_person = check.crosstab(data, "a", "b", values="v", aggfunc="sum", unit="person")
    assert not by_row.masks["threshold"].any()
    assert by_person.masks["threshold"].all()
    assert by_person.masks["nk-rule"].all()
    counts = check.crosstab(data, "a", "b", unit="person")
    assert counts.table.iloc[0, 0] == 12
    assert counts.masks["threshold"].all()


@pytest.mark.parametrize("aggfunc", ["count", "sum", "mean", "median", "min", "max", "std", "var"])
def test_aggregates_match_pandas(aggfunc: str) -> None:
    rng = np.random.default_rng(3)
    data = pd.DataFrame(
        {
            "a": rng.choice(list("abc"), 500),
            "b": rng.choice(list("xyz"), 500),
            "v": rng.normal(50, 10, 500),
        }
    )
    data.loc[:10, "v"] = np.nan
    ours = check.crosstab(data, "a", "b", values="v", aggfunc=aggfunc).table
    theirs = pd.crosstab(data.a, data.b, values=data.v, aggfunc=aggfunc)
    assert np.allclose(ours.to_numpy(float), theirs.to_numpy(float), equal_nan=True)


def test_margins_and_multi_level_dimensions() -> None:
    rng = np.random.default_rng(4)
    data = pd.DataFrame(
        {
            "a": rng.choice(list("ab"), 400),
            "c": rng.choice(list("uv"), 400),
            "b": rng.choice(list("xyz"), 400),
        }
    )
    report = check.crosstab(data, ["a", "c"], "b", margins=True)
    expected = pd.crosstab([data.a, data.c], data.b, margins=True)
    assert report.table.to_numpy().tolist() == expected.to_numpy().tolist()
    assert report.table.index[-1][0] == "All"


def test_suppressed_table_leaks_no_primary_cell() -> None:
    data = rows(
        {
            ("F", "x"): 40,
            ("F", "y"): 30,
            ("M", "x"): 25,
            ("M", "y"): 4,
            ("N", "x"): 33,
            ("N", "y"): 31,
        }
    )
    report = check.crosstab(data, "a", "b", margins=True)
    shown = report.suppressed()
    assert np.isnan(shown.loc["M", "y"])
    # The partner in the same row and column are hidden too, so 4 cannot be
    # recovered from the margins.
    assert shown.loc["M"].isna().sum() >= 2
    assert shown["y"].isna().sum() >= 2
    rounded = report.rounded()
    finite = rounded.to_numpy(float)[np.isfinite(rounded.to_numpy(float))]
    assert (finite % 5 == 0).all()


@pytest.mark.parametrize("kind", ["pyarrow", "duckdb", "dict"])
def test_accepts_arrow_duckdb_and_mappings(kind: str) -> None:
    data = rows({("F", "x"): 12, ("M", "y"): 3})
    if kind == "pyarrow":
        source = pa.Table.from_pandas(data)
    elif kind == "duckdb":
        connection = duckdb.connect()
        source = connection.from_df(data)
    else:
        source = {name: data[name].tolist() for name in data.columns}
    report = check.crosstab(source, "a", "b")
    assert report.table.loc["M", "y"] == 3


def test_identifier_dimension_and_labels_are_refused() -> None:
    data = pd.DataFrame({"BEN_NIR_PSA": ["1 84 12 75 123 456"] * 12, "b": ["x"] * 12})
    report = check.crosstab(data, "BEN_NIR_PSA", "b")
    rules = {finding.rule for finding in report.findings}
    assert "identifier" in rules
    assert report.verdict is Verdict.FAIL
    hashed = pd.DataFrame({"g": ["9f86d081884c7d659a2feaa0c55ad015"] * 12, "b": ["x"] * 12})
    assert any(f.rule == "identifier" for f in check.crosstab(hashed, "g", "b").findings)


def test_long_category_labels_are_not_mistaken_for_pseudonyms() -> None:
    data = pd.DataFrame({"g": ["hospitalisation_complete_mco"] * 12, "b": ["Ile-de-France"] * 12})
    assert check.crosstab(data, "g", "b").verdict is Verdict.PASS


def test_row_level_data_is_refused() -> None:
    data = pd.DataFrame({"id": [f"p{i}" for i in range(50)], "b": ["x", "y"] * 25})
    report = check.crosstab(data, "id", "b")
    assert any(f.rule == "microdata" and f.verdict is Verdict.FAIL for f in report.findings)


def test_hostile_inputs() -> None:
    empty = check.crosstab(pd.DataFrame({"a": [], "b": []}), "a", "b")
    assert empty.verdict is Verdict.REVIEW
    assert empty.table.empty
    infinite = pd.DataFrame({"a": ["F"] * 12, "b": ["x"] * 12, "v": [np.inf] + [1.0] * 11})
    assert check.crosstab(infinite, "a", "b", values="v", aggfunc="sum").masks["non-finite"].all()
    with pytest.raises(TableError, match="non-numeric"):
        check.crosstab(
            pd.DataFrame({"a": ["F"], "b": ["x"], "v": ["ten"]}),
            "a",
            "b",
            values="v",
            aggfunc="sum",
        )
    duplicated = pd.DataFrame([[1, 2, 3]], columns=["a", "a", "b"])
    with pytest.raises(TableError, match="duplicated"):
        check.crosstab(duplicated, "a", "b")
    with pytest.raises(TableError, match="unknown columns"):
        check.crosstab(pd.DataFrame({"a": [1]}), "a", "nope")
    with pytest.raises(TableError, match="aggfunc"):
        check.crosstab(
            pd.DataFrame({"a": [1], "b": [1], "v": [1]}), "a", "b", values="v", aggfunc="exec"
        )
    huge = pd.DataFrame({"a": ["x" * 100_000] * 12, "b": ["y"] * 12})
    assert check.crosstab(huge, "a", "b").table.iloc[0, 0] == 12
    missing_keys = pd.DataFrame({"a": ["F", None, "M"], "b": ["x", "x", np.nan]})
    assert check.crosstab(missing_keys, "a", "b").table.to_numpy().sum() == 1


def test_pivot_table_is_a_crosstab_of_values() -> None:
    data = rows({("F", "x"): 12, ("M", "y"): 14})
    report = check.pivot_table(data, values="v", index="a", columns="b", aggfunc="sum")
    assert report.method == "pivot_table"
    assert report.table.loc["F", "x"] == 12.0


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 5), st.integers(-3, 5)), max_size=60),
    st.integers(1, 4),
)
def test_largest_contributions_without_sorting_match_a_sort(pairs, k) -> None:
    cell = np.array([c for c, _ in pairs], dtype=np.int64)
    x = np.array([v for _, v in pairs], dtype=float)
    got = largest(cell, x, 6, k)
    for c in range(6):
        expected = sorted(x[cell == c], reverse=True)[:k]
        assert got[c].tolist() == expected + [0.0] * (k - len(expected))


def test_rounding_consistency_of_a_researcher_table() -> None:
    table = pd.DataFrame([[15, 20, 35], [25, 30, 55], [40, 50, 90]])
    assert check.check_rounding(table, base=5, margins=True).verdict is Verdict.PASS
    table.iloc[0, 0] = 16
    report = check.check_rounding(table, base=5, margins=True)
    assert report.masks["not-rounded"][0, 0]
    table.iloc[0, 0] = 15
    table.iloc[0, 2] = 70  # total far from 15 + 20
    assert any(
        f.rule == "rounding" for f in check.check_rounding(table, base=5, margins=True).findings
    )
