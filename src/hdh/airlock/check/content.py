"""Output-level checks: identifiers, row-level microdata, rounding."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from hdh.core.redaction import looks_like_nir

from .policy import Policy
from .report import Finding, Verdict

# Pseudonyms here are HMAC-SHA-256 hex digests (hdh.keys.pseudonyms); other
# platforms use base64 tokens, which mix digits and both letter cases.
PSEUDONYM = re.compile(
    r"^(?:[0-9a-fA-F]{16,}|(?=[^ ]*[0-9])(?=[^ ]*[a-z])(?=[^ ]*[A-Z])[A-Za-z0-9+/_-]{22,}={0,2})$"
)
IDENTIFIER_WORDS = re.compile(
    r"(?:^|_)(nir|nss|ssn|insee_id|num_enq|patient_?id|person_?id)(?:_|$)", re.I
)


def _normalise(name: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", str(name).upper()).strip("_")


def is_identifier_name(name: str, policy: Policy) -> bool:
    listed = {_normalise(item) for item in policy.identifier_columns}
    return _normalise(name) in listed or bool(IDENTIFIER_WORDS.search(str(name)))


def identifier_dimensions(names: Sequence[str], policy: Policy) -> list[Finding]:
    bad = [name for name in names if is_identifier_name(name, policy)]
    if not bad:
        return []
    return [Finding("identifier", Verdict.FAIL, f"colonne(s) d’identifiant : {', '.join(bad)}")]


def _looks_identifying(values: pd.Series) -> pd.Series:
    text = values.dropna().astype(str)
    return text.map(lambda item: looks_like_nir(item) or bool(PSEUDONYM.match(item.strip())))


def identifier_labels(table: pd.DataFrame, policy: Policy) -> list[Finding]:
    """Row or column labels that look like a NIR or a pseudonym."""
    labels: list[str] = []
    for axis in (table.index, table.columns):
        flat = axis.to_flat_index() if isinstance(axis, pd.MultiIndex) else axis
        for label in flat:
            parts = label if isinstance(label, tuple) else (label,)
            labels.extend(str(part) for part in parts)
    series = pd.Series(labels, dtype=object)
    if len(series) and _looks_identifying(series).any():
        return [
            Finding("identifier", Verdict.FAIL, "libellé ressemblant à un NIR ou un pseudonyme")
        ]
    return []


def identifier_columns(frame: pd.DataFrame, policy: Policy) -> list[Finding]:
    """Columns named like identifiers, or whose text values look like NIRs or
    pseudonyms."""
    findings = identifier_dimensions([str(name) for name in frame.columns], policy)
    flagged: list[str] = []
    for position, name in enumerate(frame.columns):
        column = frame.iloc[:, position]
        if column.dtype.kind in "biufc":
            text = column.dropna()
            # 13 or 15 digit numbers are NIRs read as numbers.
            if (
                len(text)
                and text.map(
                    lambda x: looks_like_nir(f"{x:.0f}") if np.isfinite(x) else False
                ).any()
            ):
                flagged.append(str(name))
            continue
        if len(column.dropna()) and _looks_identifying(column).any():
            flagged.append(str(name))
    if flagged:
        findings.append(
            Finding(
                "identifier",
                Verdict.FAIL,
                f"valeurs ressemblant à un identifiant : {', '.join(flagged)}",
            )
        )
    return findings


def microdata_from_counts(rows: np.ndarray, *, margins: bool, policy: Policy) -> list[Finding]:
    """A table whose non-empty cells each hold one row is the data itself."""
    inner = rows[:-1, :-1] if margins else rows
    filled = inner[inner > 0]
    if len(filled) >= policy.microdata_min_rows and bool((filled == 1).all()):
        return [Finding("microdata", Verdict.FAIL, "une ligne par cellule : données individuelles")]
    return []


def microdata_frame(frame: pd.DataFrame, counts: Sequence[str], policy: Policy) -> list[Finding]:
    """A file table that looks like one row per individual.

    Fails when the declared count columns hold only 0 and 1; goes to review when
    nothing is declared as a count and some column is a unique key of a long table.
    """
    if len(frame) < policy.microdata_min_rows:
        return []
    if counts:
        values = frame[list(counts)].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
        finite = values[np.isfinite(values)]
        if len(finite) and bool(np.isin(finite, (0.0, 1.0)).all()):
            return [
                Finding(
                    "microdata",
                    Verdict.FAIL,
                    "effectifs tous égaux à 0 ou 1 : données individuelles",
                )
            ]
        return []
    for position, name in enumerate(frame.columns):
        column = frame.iloc[:, position]
        if column.notna().all() and column.nunique() == len(frame):
            return [
                Finding(
                    "microdata",
                    Verdict.REVIEW,
                    f"aucun effectif déclaré et la colonne {name} est une clé unique : "
                    "vérifier qu’il ne s’agit pas de données individuelles",
                )
            ]
    return []


def rounding_masks(
    table: np.ndarray, *, base: int, margins: bool, tolerance: float | None = None
) -> tuple[np.ndarray, list[Finding]]:
    """Cells that are not multiples of ``base``; margins that disagree with their
    rounded cells by more than independent rounding explains."""
    values = table.astype(float)
    finite = np.isfinite(values)
    remainder = np.where(finite, np.abs(np.remainder(values, base)), 0.0)
    not_multiple = finite & ~(np.isclose(remainder, 0.0) | np.isclose(remainder, base))
    findings: list[Finding] = []
    if margins and values.shape[0] >= 2 and values.shape[1] >= 2:
        inner = np.where(finite[:-1, :-1], values[:-1, :-1], 0.0)
        row_gap = np.abs(inner.sum(axis=1) - values[:-1, -1])
        col_gap = np.abs(inner.sum(axis=0) - values[-1, :-1])
        row_limit = tolerance if tolerance is not None else (inner.shape[1] + 1) * base / 2
        col_limit = tolerance if tolerance is not None else (inner.shape[0] + 1) * base / 2
        bad_rows = int(np.sum(np.isfinite(row_gap) & (row_gap > row_limit)))
        bad_cols = int(np.sum(np.isfinite(col_gap) & (col_gap > col_limit)))
        if bad_rows or bad_cols:
            findings.append(
                Finding(
                    "rounding",
                    Verdict.FAIL,
                    f"marges incohérentes avec les cellules arrondies à {base} "
                    f"({bad_rows} ligne(s), {bad_cols} colonne(s))",
                )
            )
    return not_multiple, findings
