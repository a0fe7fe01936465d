"""Regression outputs: residual degrees of freedom must reach the threshold."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from .evidence import TableError
from .policy import Policy
from .report import Finding, OutputReport, Verdict

DF_RESIDUALS = re.compile(r"Df Residuals:\s*([-+]?[0-9]+(?:\.[0-9]*)?)")


def residual_dof(result: Any) -> float:
    """Residual degrees of freedom of a statsmodels result or model, its
    ``summary()``, the summary's text, or a mapping with ``df_resid``/``dof``."""
    if isinstance(result, Mapping):
        for key in ("df_resid", "dof"):
            if key in result:
                return float(result[key])
        raise TableError("no df_resid or dof in the mapping")
    if isinstance(result, str):
        text = result
    elif hasattr(result, "df_resid"):
        return float(result.df_resid)
    elif hasattr(result, "tables"):  # statsmodels.iolib.summary.Summary
        text = str(result)
    else:
        raise TableError(f"cannot read degrees of freedom from {type(result).__name__}")
    match = DF_RESIDUALS.search(text)
    if not match:
        raise TableError("no 'Df Residuals' line in the summary")
    return float(match.group(1))


def check_regression(
    result: Any,
    *,
    method: str = "ols",
    policy: Policy | None = None,
    uid: str = "output_0",
    command: str = "",
) -> OutputReport:
    policy = policy or Policy()
    dof = residual_dof(result)
    report = OutputReport(
        uid=uid,
        output_type="regression",
        method=method,
        policy=policy,
        command=command,
        properties={"dof": dof if math.isfinite(dof) else None},
    )
    if not math.isfinite(dof) or dof < policy.min_dof:
        report.findings.append(
            Finding("dof", Verdict.FAIL, f"degrés de liberté résiduels {dof:g} < {policy.min_dof}")
        )
    else:
        report.findings.append(
            Finding("dof", Verdict.PASS, f"degrés de liberté résiduels {dof:g} >= {policy.min_dof}")
        )
    return report
