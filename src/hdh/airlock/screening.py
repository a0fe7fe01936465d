"""The automated checks run on every file added to a request.

Tables (CSV, XLSX) go through :func:`hdh.airlock.check.check_file` with the
platform's thresholds; the result is kept twice: cell by cell for the review
page (``checks``) and as ACRO's ``results.json`` (``results``). Other files are
gated by type and content. Some findings block the submission (a file that is
not what its name says, identifier columns, row-level microdata); the others
are evidence for the checkers, who decide.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hdh.airlock import storage
from hdh.airlock.check import Policy, Report, Verdict, check_file
from hdh.airlock.check.report import CELL_RULES, MESSAGES, OutputReport
from hdh.airlock.states import CheckStatus
from hdh.core.redaction import looks_like_nir

# Extension -> media type. Model summaries are plain text (OpenSAFELY's
# moderately-sensitive types, less the ones a browser would execute).
ALLOWED_TYPES: dict[str, str] = {
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".png": "image/png",
    ".txt": "text/plain",
    ".md": "text/markdown",
}
TABLE_TYPES = frozenset({".csv", ".xlsx"})
TEXT_TYPES = frozenset({".csv", ".txt", ".md"})
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ZIP_MAGIC = b"PK\x03\x04"
# Findings that stop a file from being submitted: not the file it claims to be,
# unreadable, or personal data rather than results.
BLOCKING_RULES = frozenset(
    {"type", "content", "file", "formula", "columns", "cell-length", "identifier", "microdata"}
)
# The review page shows at most this many cells per table; the checks cover all.
MAX_CELLS_SHOWN = 5000
PSEUDONYM_TOKEN = re.compile(r"\b[0-9a-fA-F]{32,}\b")


def extension(name: str) -> str:
    return Path(name).suffix.lower()


def is_allowed(name: str) -> bool:
    return extension(name) in ALLOWED_TYPES


def _finding(rule: str, verdict: str, message: str, output: str = "") -> dict[str, str]:
    return {"rule": rule, "verdict": verdict, "message": message, "output": output}


def _sniff(path: Path, suffix: str) -> list[dict[str, str]]:
    """Does the content match the extension?"""
    with open(path, "rb") as reader:
        head = reader.read(8)
    if suffix == ".png" and not head.startswith(PNG_MAGIC):
        return [_finding("type", "fail", "ce fichier .png n'est pas une image PNG")]
    if suffix == ".xlsx" and not head.startswith(ZIP_MAGIC):
        return [_finding("type", "fail", "ce fichier .xlsx n'est pas un classeur Excel")]
    if suffix in TEXT_TYPES:
        data = path.read_bytes()
        if b"\x00" in data:
            return [_finding("type", "fail", "fichier binaire sous une extension de texte")]
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return [_finding("type", "fail", "le fichier n'est pas un texte UTF-8")]
        if suffix != ".csv":
            return _text_findings(text)
    return []


def _text_findings(text: str) -> list[dict[str, str]]:
    findings = []
    if looks_like_nir(text):
        findings.append(
            _finding("identifier", "fail", "le texte contient un numéro ressemblant à un NIR")
        )
    if PSEUDONYM_TOKEN.search(text):
        findings.append(
            _finding(
                "identifier", "fail", "le texte contient une valeur ressemblant à un pseudonyme"
            )
        )
    findings.append(
        _finding(
            "free-text", "review", "texte libre : à lire en entier (aucun contrôle de cellule)"
        )
    )
    return findings


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _shown(value: Any) -> str:
    number = _number(value)
    if number is None:
        return (
            "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
        )
    return f"{number:.0f}" if number.is_integer() else f"{number:g}"


def _label(value: Any) -> list[str]:
    parts = value if isinstance(value, tuple) else (value,)
    return [str(part) for part in parts]


def _table(output: OutputReport, policy: Policy) -> dict[str, Any] | None:
    table = output.table
    if table is None:
        return None
    messages = policy.to_dict()
    verdicts = output.cell_verdicts()
    rows: list[dict[str, Any]] = []
    shown = 0
    truncated = False
    base = policy.round_base
    for i, label in enumerate(table.index):
        if shown + table.shape[1] > MAX_CELLS_SHOWN:
            truncated = True
            break
        cells = []
        for j in range(table.shape[1]):
            value = table.iat[i, j]
            reasons = output.cell_reasons(i, j)
            verdict = str(verdicts.iat[i, j])
            suggestion = ""
            if verdict == Verdict.FAIL and any(r != "not-rounded" for r in reasons):
                suggestion = "masquer"
            elif "not-rounded" in reasons and (number := _number(value)) is not None:
                suggestion = f"arrondir à {round(number / base) * base:.0f}"
            cells.append(
                {
                    "value": _shown(value),
                    "verdict": verdict,
                    "rules": [
                        {
                            "rule": reason,
                            "name": CELL_RULES[reason][1],
                            "message": MESSAGES[reason].format(**messages),
                        }
                        for reason in reasons
                    ],
                    "suggestion": suggestion,
                }
            )
        shown += len(cells)
        rows.append({"labels": _label(label), "cells": cells})
    names = [str(name) if name is not None else "" for name in table.index.names]
    return {
        "uid": output.uid,
        "verdict": output.verdict.value,
        "index_names": names,
        "columns": [" / ".join(_label(column)) for column in table.columns],
        "rows": rows,
        "truncated": truncated,
        "flagged": int((verdicts != Verdict.PASS.value).to_numpy().sum()),
    }


def status_of(findings: list[dict[str, str]], verdicts: list[str]) -> CheckStatus:
    if any(f["rule"] in BLOCKING_RULES and f["verdict"] == "fail" for f in findings):
        return CheckStatus.BLOCKED
    every = [f["verdict"] for f in findings] + verdicts
    if "fail" in every:
        return CheckStatus.FAIL
    if "review" in every:
        return CheckStatus.REVIEW
    return CheckStatus.PASS


def safe_name(name: str) -> str:
    """A file name without directories or characters a file system could misread."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).name).strip("._") or "fichier"
    return base[:120]


def _check_table(path: Path, name: str, policy: Policy) -> Report:
    """The library reads the type from the suffix and names outputs after the file:
    give it the copy under the file's own (safe) name, in a private directory."""
    staging = storage.root() / "staging"
    staging.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=staging) as folder:
        named = Path(folder) / safe_name(name)
        if named.suffix.lower() != extension(name):
            named = named.with_name(named.name + extension(name))
        try:
            os.link(path, named)
        except OSError:
            shutil.copyfile(path, named)
        return check_file(named, policy=policy)


def screen(
    path: Path, name: str, policy: Policy
) -> tuple[CheckStatus, dict[str, Any], dict[str, Any]]:
    """Check the airlock's copy at ``path`` (named ``name``): (status, checks, results.json)."""
    suffix = extension(name)
    findings = _sniff(path, suffix)
    tables: list[dict[str, Any]] = []
    results: dict[str, Any] = {}
    verdicts: list[str] = []
    if not findings and suffix in TABLE_TYPES:
        report = _check_table(path, name, policy)
        for output in report.outputs.values():
            for finding in output.findings:
                findings.append(
                    _finding(finding.rule, finding.verdict.value, finding.message, output.uid)
                )
            rendered = _table(output, policy)
            if rendered is not None:
                tables.append(rendered)
            verdicts.append(output.verdict.value)
        results = report.to_results_json()
    status = status_of(findings, verdicts)
    checks = {"status": status.value, "findings": findings, "tables": tables}
    return status, checks, results
