"""The validation report of a deposit: per rule, a count and the first examples.

An example names the file, the row (record number in the file, header
excluded, from 1), the column and the rule — never the value, so reports can be
stored and shown without holding health data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

EXAMPLES = 5

# Rule -> what it means, in the producer's language.
RULES: dict[str, str | Promise] = {
    "file.format": _("format de fichier non reconnu"),
    "file.empty": _("fichier vide"),
    "file.encoding": _("encodage des caractères illisible ou incohérent"),
    "file.unreadable": _("fichier illisible ou tronqué"),
    "csv.malformed": _("ligne CSV mal formée (guillemets, nombre de colonnes)"),
    "csv.line_too_long": _("ligne trop longue"),
    "table.mismatch": _("les colonnes ne sont pas celles de cette table"),
    "column.missing": _("colonne attendue absente"),
    "column.unknown": _("colonne inconnue du catalogue"),
    "type": _("valeur du mauvais type"),
    "required": _("valeur obligatoire manquante"),
    "length": _("valeur plus longue que la longueur déclarée"),
    "minimum": _("valeur inférieure au minimum"),
    "maximum": _("valeur supérieure au maximum"),
    "enum": _("valeur hors de la liste autorisée"),
    "min_length": _("valeur plus courte que la longueur minimale"),
    "code_list": _("code absent de la nomenclature"),
    "primary_key": _("clé primaire en double"),
    "foreign_key": _("clé étrangère sans correspondance dans la table déposée"),
}


@dataclass(frozen=True)
class Example:
    file: str
    row: int | None
    column: str | None
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "row": self.row, "column": self.column, "detail": self.detail}


@dataclass
class Finding:
    rule: str
    column: str | None
    count: int = 0
    examples: list[Example] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "column": self.column,
            "description": str(RULES.get(self.rule, self.rule)),
            "count": self.count,
            "examples": [e.as_dict() for e in self.examples],
        }


@dataclass
class Report:
    table: str
    rows: int = 0
    files: list[dict[str, Any]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def add(
        self,
        rule: str,
        *,
        file: str,
        row: int | None = None,
        column: str | None = None,
        detail: str = "",
        count: int = 1,
    ) -> None:
        """Record ``count`` occurrences of ``rule`` with one example."""
        finding = self.finding(rule, column)
        finding.count += count
        if len(finding.examples) < EXAMPLES:
            finding.examples.append(Example(file, row, column, detail))

    def finding(self, rule: str, column: str | None) -> Finding:
        if rule not in RULES:
            raise ValueError(f"unknown validation rule {rule!r}")
        for finding in self.findings:
            if finding.rule == rule and finding.column == column:
                return finding
        finding = Finding(rule, column)
        self.findings.append(finding)
        return finding

    def counts(self) -> dict[str, int]:
        """Violations per rule (for the audit log: counts only)."""
        totals: dict[str, int] = {}
        for finding in self.findings:
            totals[finding.rule] = totals.get(finding.rule, 0) + finding.count
        return totals

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "ok": self.ok,
            "rows": self.rows,
            "files": self.files,
            "findings": [f.as_dict() for f in self.findings],
        }
