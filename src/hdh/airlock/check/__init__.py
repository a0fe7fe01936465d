"""Statistical disclosure checks, importable without Django.

Researchers run them from their code before asking for a release; the airlock
runs the same checks on the files submitted. Typical use::

    from hdh.airlock import check

    table = check.crosstab(frame, index="age_band", columns="region")
    table.verdict          # Verdict.FAIL if any cell is under 11
    table.cell_verdicts()  # "pass" / "review" / "fail" per cell
    table.suppressed()     # the suggested table, primary and secondary cells blanked
    check.Report(outputs={table.uid: table}).write("results.json")  # ACRO format
"""

from .evidence import AGGREGATES, TableError
from .files import FileMetadata, check_file
from .policy import Policy, PolicyError
from .regression import check_regression, residual_dof
from .report import CELL_RULES, Finding, OutputReport, Report, Verdict
from .secondary import protect
from .tables import check_rounding, crosstab, pivot_table

__all__ = [
    "AGGREGATES",
    "CELL_RULES",
    "FileMetadata",
    "Finding",
    "OutputReport",
    "Policy",
    "PolicyError",
    "Report",
    "TableError",
    "Verdict",
    "check_file",
    "check_regression",
    "check_rounding",
    "crosstab",
    "pivot_table",
    "protect",
    "residual_dof",
]
