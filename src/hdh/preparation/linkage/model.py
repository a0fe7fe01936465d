"""The Fellegi-Sunter model hdh fits with Splink: comparisons, blocking, training.

Both sides are first brought to the columns of
:data:`hdh.preparation.linkage.cohort.LINK_COLUMNS` (upper-case names without
accents, ISO birth dates as text, five-character postcodes), so the SQL below
uses only functions that DuckDB and Spark share (Splink translates
Jaro-Winkler and Levenshtein for each backend).

``splink`` is imported only when a model is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Blocked pairs scored by predict: each rule is an equi-join, so no rule is a
# cross product. Together they recover a record with one error in any field,
# and most records with two (see docs/adr/0010-record-linkage.md).
BLOCKING_RULES: tuple[tuple[str, ...], ...] = (
    ("birth_date",),
    ("first_name", "surname"),
    ("surname", "birth_year"),
    ("first_name", "birth_year", "department"),
    ("surname_first", "first_name"),
    ("first_name", "postcode"),
    ("surname", "postcode"),
)
# A married name on one side and the birth name on the other.
CROSS_NAME_RULES = (
    "l.birth_name = r.surname AND l.birth_year = r.birth_year",
    "l.surname = r.birth_name AND l.birth_year = r.birth_year",
)
# Deterministic rule for the prior (probability that two random records match).
PRIOR_RULE = ("first_name", "surname", "birth_date")
# EM sessions: each blocks on some fields and estimates the others' m.
TRAINING_RULES: tuple[tuple[str, ...], ...] = (("birth_date",), ("surname", "first_name"))


@dataclass(frozen=True)
class TrainingOptions:
    """How the model's parameters are estimated (recorded in the quality report)."""

    u_max_pairs: float = 2e6
    seed: int = 0
    prior_recall: float = 0.7
    em_max_iterations: int = 25
    em_convergence: float = 1e-4


def _name_levels(column: str) -> list[Any]:
    import splink.comparison_level_library as cll

    return [
        cll.NullLevel(column),
        cll.ExactMatchLevel(column, term_frequency_adjustments=True),
        cll.JaroWinklerLevel(column, 0.92),
        cll.JaroWinklerLevel(column, 0.88),
        cll.JaroWinklerLevel(column, 0.7),
        cll.ElseLevel(),
    ]


def comparisons() -> list[Any]:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    first_name = cl.CustomComparison(
        output_column_name="first_name",
        comparison_description="Prénom",
        comparison_levels=_name_levels("first_name"),
    )
    surname_levels = _name_levels("surname")
    surname_levels.insert(
        2,
        cll.CustomLevel(
            "surname_l = birth_name_r OR birth_name_l = surname_r "
            "OR surname_first_l = surname_r OR surname_l = surname_first_r "
            "OR instr(surname_l, concat('-', surname_r)) > 0 "
            "OR instr(surname_r, concat('-', surname_l)) > 0",
            label_for_charts="Nom de naissance ou nom composé",
        ),
    )
    surname = cl.CustomComparison(
        output_column_name="surname",
        comparison_description="Nom",
        comparison_levels=surname_levels,
    )
    birth_date = cl.CustomComparison(
        output_column_name="birth_date",
        comparison_description="Date de naissance",
        comparison_levels=[
            cll.NullLevel("birth_date"),
            cll.ExactMatchLevel("birth_date"),
            cll.CustomLevel(
                "substr(birth_date_l, 1, 4) = substr(birth_date_r, 1, 4) "
                "AND substr(birth_date_l, 6, 2) = substr(birth_date_r, 9, 2) "
                "AND substr(birth_date_l, 9, 2) = substr(birth_date_r, 6, 2)",
                label_for_charts="Jour et mois inversés",
            ),
            cll.LevenshteinLevel("birth_date", 1),
            cll.LevenshteinLevel("birth_date", 2),
            cll.ElseLevel(),
        ],
    )
    postcode = cl.CustomComparison(
        output_column_name="postcode",
        comparison_description="Code postal",
        comparison_levels=[
            cll.NullLevel("postcode"),
            cll.ExactMatchLevel("postcode", term_frequency_adjustments=True),
            cll.ExactMatchLevel("department").configure(label_for_charts="Même département"),
            cll.ElseLevel(),
        ],
    )
    # Sex is rarely wrong, so EM on clean data would learn m(else) ~ 0 and veto a
    # match on one miskeyed digit: its m is fixed at a 1% error rate instead.
    sex = cl.CustomComparison(
        output_column_name="sex",
        comparison_description="Sexe",
        comparison_levels=[
            cll.NullLevel("sex"),
            cll.ExactMatchLevel("sex").configure(m_probability=0.99, fix_m_probability=True),
            cll.ElseLevel().configure(m_probability=0.01, fix_m_probability=True),
        ],
    )
    return [first_name, surname, birth_date, postcode, sex]


def settings(options: TrainingOptions) -> Any:
    from splink import SettingsCreator, block_on

    rules: list[Any] = [block_on(*columns) for columns in BLOCKING_RULES]
    rules += list(CROSS_NAME_RULES)
    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons(),
        blocking_rules_to_generate_predictions=rules,
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        max_iterations=options.em_max_iterations,
        em_convergence=options.em_convergence,
    )


def train(linker: Any, options: TrainingOptions) -> None:
    """u by random sampling, the prior from a strict deterministic rule, m by EM."""
    from splink import block_on

    linker.training.estimate_probability_two_random_records_match(
        [block_on(*PRIOR_RULE)], recall=options.prior_recall
    )
    linker.training.estimate_u_using_random_sampling(
        max_pairs=options.u_max_pairs, seed=options.seed
    )
    for columns in TRAINING_RULES:
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on(*columns), estimate_without_term_frequencies=True
        )
