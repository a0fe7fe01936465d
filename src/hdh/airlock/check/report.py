"""Verdicts, per output and per cell, and their ACRO-compatible serialisation.

``Report.to_results_json()`` writes the structure of ACRO's ``results.json``
(``acro/record.py: finalise_json``, ACRO 1.0): ``{version, results: {uid: {uid,
status, type, properties, files: [{name, sdc: {summary, cells}}], outcome,
command, summary, timestamp, comments, exception}}}``. Rules that ACRO also
checks keep ACRO's names; ours are prefixed ``hdh:`` and every extra key starts
with ``hdh_``.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hdh.core import clock

from .policy import Policy

FORMAT_VERSION = "1.0.2"  # the ACRO results.json version these files follow


class Verdict(enum.StrEnum):
    PASS = "pass"  # noqa: S105 - a verdict, not a password  # nosec B105
    REVIEW = "review"
    FAIL = "fail"


def worst(verdicts: list[Verdict]) -> Verdict:
    if Verdict.FAIL in verdicts:
        return Verdict.FAIL
    if Verdict.REVIEW in verdicts:
        return Verdict.REVIEW
    return Verdict.PASS


# Cell rules: name -> (verdict when the cell is flagged, ACRO 1.0 name).
CELL_RULES: dict[str, tuple[Verdict, str]] = {
    "threshold": (Verdict.FAIL, "MinimumThresholdCheck"),
    "zero": (Verdict.FAIL, "PresenceOfZeroCheck"),
    "nk-rule": (Verdict.FAIL, "NKCheck"),
    "p-ratio": (Verdict.FAIL, "PPercentCheck"),
    "secondary": (Verdict.FAIL, "hdh:SecondarySuppression"),
    "not-rounded": (Verdict.FAIL, "hdh:RoundingCheck"),
    "identifier": (Verdict.FAIL, "hdh:IdentifierCheck"),
    "non-finite": (Verdict.FAIL, "hdh:NonFiniteCheck"),
    "negative": (Verdict.REVIEW, "hdh:NegativeCheck"),
    "missing": (Verdict.REVIEW, "MissingCheck"),
}

MESSAGES = {
    "threshold": "moins de {min_count} unités",
    "zero": "cellule nulle",
    "nk-rule": "dominance : les {nk_n} plus grands contributeurs dépassent {nk_k:.0%} du total",
    "p-ratio": "règle p % : le reste est inférieur à {p_percent:.0%} du plus grand",
    "secondary": "suppression secondaire (sinon une cellule masquée se déduit des marges)",
    "not-rounded": "valeur non multiple de la base d’arrondi déclarée",
    "identifier": "valeur ressemblant à un identifiant",
    "non-finite": "valeur infinie ou non numérique",
    "negative": "valeurs négatives : dominance non définie, à vérifier",
    "missing": "valeurs manquantes ignorées dans le calcul",
}


@dataclasses.dataclass(frozen=True)
class Finding:
    """An output-level result (identifier column, degrees of freedom, …)."""

    rule: str
    verdict: Verdict
    message: str


@dataclasses.dataclass
class OutputReport:
    """The checks of one output: a table, a regression or a file."""

    uid: str
    output_type: str  # "table" | "regression" | "custom"
    method: str
    policy: Policy
    table: pd.DataFrame | None = None
    masks: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    findings: list[Finding] = dataclasses.field(default_factory=list)
    # Evidence grids of the table's shape (contributors, totals, top contributions).
    evidence: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    properties: dict[str, Any] = dataclasses.field(default_factory=dict)
    files: list[str] = dataclasses.field(default_factory=list)
    command: str = ""
    comments: list[str] = dataclasses.field(default_factory=list)
    exception: str = ""
    timestamp: str = dataclasses.field(default_factory=lambda: clock.now().isoformat())

    # -- verdicts ---------------------------------------------------------
    def flagged(self, verdict: Verdict) -> np.ndarray:
        shape = self.table.shape if self.table is not None else (0, 0)
        out = np.zeros(shape, dtype=bool)
        for rule, mask in self.masks.items():
            if CELL_RULES[rule][0] is verdict:
                out |= mask
        return out

    def cell_verdicts(self) -> pd.DataFrame:
        """A frame of the table's shape: "pass", "review" or "fail" per cell."""
        assert self.table is not None
        grid = np.full(self.table.shape, Verdict.PASS.value, dtype=object)
        grid[self.flagged(Verdict.REVIEW)] = Verdict.REVIEW.value
        grid[self.flagged(Verdict.FAIL)] = Verdict.FAIL.value
        return pd.DataFrame(grid, index=self.table.index, columns=self.table.columns)

    def cell_reasons(self, row: int, column: int) -> list[str]:
        return [rule for rule, mask in self.masks.items() if mask[row, column]]

    @property
    def verdict(self) -> Verdict:
        verdicts = [finding.verdict for finding in self.findings]
        for rule, mask in self.masks.items():
            if mask.any():
                verdicts.append(CELL_RULES[rule][0])
        return worst(verdicts)

    def suppressed(self) -> pd.DataFrame:
        """The suggested table: every failing cell (primary and secondary) blanked."""
        assert self.table is not None
        return self.table.mask(self.flagged(Verdict.FAIL))

    def rounded(self, base: int | None = None) -> pd.DataFrame:
        """The suggested table rounded to ``base`` after suppression (ACRO rounds
        each cell, margins included, to the nearest multiple)."""
        base = base or self.policy.round_base
        table = self.suppressed()
        numeric = table.select_dtypes(include="number")
        table[numeric.columns] = (numeric / base).round() * base
        return table

    # -- serialisation ----------------------------------------------------
    def outcome(self) -> pd.DataFrame:
        """ACRO's per-cell text: "ok" or the failing checks, "; "-terminated."""
        assert self.table is not None
        text = np.full(self.table.shape, "", dtype=object)
        for rule, mask in self.masks.items():
            text[mask] = text[mask] + CELL_RULES[rule][1] + "; "
        text[text == ""] = "ok"
        return pd.DataFrame(text, index=self.table.index, columns=self.table.columns)

    def summary(self) -> str:
        lines = [
            f"{finding.rule}: {finding.verdict} - {finding.message}" for finding in self.findings
        ]
        for rule, mask in self.masks.items():
            count = int(mask.sum())
            if count:
                verdict = CELL_RULES[rule][0]
                lines.append(
                    f"{CELL_RULES[rule][1]}: {verdict} - {count} cells may need suppressing."
                )
        return "\n".join(lines) if lines else "pass"

    def to_acro(self) -> dict[str, Any]:
        sdc: dict[str, Any] = {"summary": {}, "cells": {}}
        for rule, mask in self.masks.items():
            name = CELL_RULES[rule][1]
            sdc["summary"][name] = int(mask.sum())
            sdc["cells"][name] = [[int(r), int(c)] for r, c in zip(*np.nonzero(mask), strict=True)]
        for finding in self.findings:
            name = ACRO_FINDINGS.get(finding.rule, f"hdh:{finding.rule}")
            sdc["summary"][name] = int(finding.verdict is not Verdict.PASS)
        files = self.files or [f"{self.uid}.csv"]
        entry: dict[str, Any] = {
            "uid": self.uid,
            "status": self.verdict.value,
            "type": self.output_type,
            "properties": {"method": self.method, **self.properties},
            "files": [{"name": name, "sdc": sdc} for name in files],
            "outcome": _labelled(self.outcome()) if self.table is not None else {},
            "command": self.command,
            "summary": self.summary(),
            "timestamp": self.timestamp,
            "comments": list(self.comments),
            "exception": self.exception,
            "hdh_findings": [
                {"rule": f.rule, "verdict": f.verdict.value, "message": f.message}
                for f in self.findings
            ],
        }
        if self.table is not None:
            entry["hdh_cells"] = _labelled(self.cell_verdicts())
            entry["hdh_suppressed"] = _labelled(self.suppressed())
        return entry


ACRO_FINDINGS = {"dof": "MinimumDoFCheck"}


def _label(value: Any) -> str:
    if isinstance(value, tuple):
        return " / ".join(str(part) for part in value)
    return str(value)


def _labelled(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """``DataFrame.to_dict()`` (column -> row -> value, as ACRO writes ``outcome``)
    with string keys and JSON-safe values."""
    out: dict[str, dict[str, Any]] = {}
    for j, column in enumerate(frame.columns):
        values: dict[str, Any] = {}
        for i, row in enumerate(frame.index):
            value = frame.iat[i, j]
            if isinstance(value, float | np.floating):
                value = float(value) if np.isfinite(value) else None
            elif isinstance(value, np.integer):
                value = int(value)
            elif value is not None and not isinstance(value, str | bool):
                value = None if pd.isna(value) else str(value)
            values[_label(row)] = value
        out[_label(column)] = values
    return out


@dataclasses.dataclass
class Report:
    """Every output of one release, with the policy they were checked against."""

    policy: Policy = dataclasses.field(default_factory=Policy)
    outputs: dict[str, OutputReport] = dataclasses.field(default_factory=dict)

    def add(self, output: OutputReport) -> OutputReport:
        self.outputs[output.uid] = output
        return output

    @property
    def verdict(self) -> Verdict:
        return worst([output.verdict for output in self.outputs.values()])

    def to_results_json(self) -> dict[str, Any]:
        return {
            "version": FORMAT_VERSION,
            "results": {uid: output.to_acro() for uid, output in self.outputs.items()},
            "hdh_status": self.verdict.value,
            "hdh_policy": self.policy.to_dict(),
        }

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(
            json.dumps(self.to_results_json(), ensure_ascii=False, indent=2, allow_nan=False),
            encoding="utf-8",
        )
        return path
