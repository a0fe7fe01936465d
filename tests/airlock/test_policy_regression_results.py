"""Thresholds from files, regression degrees of freedom, results.json shape."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from hdh.airlock import check
from hdh.airlock.check import Policy, PolicyError, Verdict

# -- policy ---------------------------------------------------------------


def test_defaults_are_the_casd_and_acro_ones() -> None:
    policy = Policy()
    assert (policy.min_count, policy.nk_n, policy.nk_k, policy.p_percent, policy.min_dof) == (
        11,
        2,
        0.9,
        0.1,
        10,
    )
    assert policy.zeros_disclosive
    assert "BEN_NIR_PSA" in policy.identifier_columns


def test_policy_loads_from_toml_and_json(tmp_path: Path) -> None:
    toml = tmp_path / "sdc.toml"
    toml.write_text('[disclosure]\nmin_count = 10\nnk_k = 0.85\nidentifier_columns = ["ID"]\n')
    policy = Policy.load(toml)
    assert policy.min_count == 10
    assert policy.nk_k == 0.85
    assert policy.identifier_columns == ("ID",)
    as_json = tmp_path / "sdc.json"
    as_json.write_text(json.dumps(policy.to_dict()))
    assert Policy.load(as_json) == policy


@pytest.mark.parametrize(
    "data",
    [
        {"min_count": "11"},
        {"min_count": 0},
        {"nk_k": 1.5},
        {"bogus": 1},
        {"zeros_disclosive": 1},
        {"p_percent": True},
    ],
)
def test_bad_policies_are_refused(data: dict) -> None:
    with pytest.raises(PolicyError):
        Policy.from_mapping(data)


def test_malformed_policy_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text("min_count = = 3")
    with pytest.raises(PolicyError):
        Policy.load(path)
    listed = tmp_path / "p.json"
    listed.write_text("[1, 2]")
    with pytest.raises(PolicyError):
        Policy.load(listed)


def test_the_package_imports_without_django() -> None:
    code = "import sys, hdh.airlock.check; assert 'django' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# -- regression -----------------------------------------------------------


def ols(rows: int):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 3))
    y = x @ [1.0, 2.0, 3.0] + rng.normal(size=rows)
    return sm.OLS(y, sm.add_constant(x)).fit()


def test_regression_dof_from_statsmodels_results_and_summaries() -> None:
    small, large = ols(10), ols(200)
    assert check.check_regression(small).verdict is Verdict.FAIL  # 10 - 4 = 6
    assert check.check_regression(large).verdict is Verdict.PASS
    assert check.residual_dof(small.summary()) == 6
    assert check.residual_dof(str(large.summary())) == 196
    assert check.residual_dof({"df_resid": 14}) == 14
    assert check.check_regression({"dof": 10}).verdict is Verdict.PASS


def test_regression_logit() -> None:
    rng = np.random.default_rng(1)
    x = sm.add_constant(rng.normal(size=(300, 2)))
    y = (x @ [0.2, 1.0, -1.0] + rng.logistic(size=300) > 0).astype(float)
    result = sm.Logit(y, x).fit(disp=0)
    report = check.check_regression(result, method="logit")
    assert report.properties["dof"] == 297
    assert report.verdict is Verdict.PASS


@pytest.mark.parametrize("bad", [object(), "no table here", {"r2": 0.5}])
def test_unreadable_regressions_are_refused(bad: object) -> None:
    with pytest.raises(check.TableError):
        check.residual_dof(bad)


def test_non_finite_dof_fails() -> None:
    assert check.check_regression({"dof": float("nan")}).verdict is Verdict.FAIL


# -- results.json -----------------------------------------------------------

ACRO_KEYS = {
    "uid",
    "status",
    "type",
    "properties",
    "files",
    "outcome",
    "command",
    "summary",
    "timestamp",
    "comments",
    "exception",
}


def test_results_json_has_acro_structure_plus_prefixed_extras(tmp_path: Path) -> None:
    data = pd.DataFrame(
        {"a": ["F"] * 40 + ["M"] * 29, "b": ["x"] * 20 + ["y"] * 20 + ["x"] * 25 + ["y"] * 4}
    )
    table = check.crosstab(data, "a", "b", uid="output_0", command="check.crosstab(data, 'a', 'b')")
    model = check.check_regression(ols(200), uid="output_1")
    report = check.Report(outputs={"output_0": table, "output_1": model})
    written = json.loads(report.write(tmp_path / "results.json").read_text())
    assert written["version"] == "1.0.2"
    entry = written["results"]["output_0"]
    assert set(entry) >= ACRO_KEYS
    assert all(key in ACRO_KEYS or key.startswith("hdh_") for key in entry)
    assert entry["status"] == "fail"
    assert entry["type"] == "table"
    sdc = entry["files"][0]["sdc"]
    assert sdc["cells"]["MinimumThresholdCheck"] == [[1, 1]]
    assert sdc["summary"]["MinimumThresholdCheck"] == 1
    assert entry["outcome"]["y"]["M"] == "MinimumThresholdCheck; "
    assert entry["outcome"]["x"]["F"] == "hdh:SecondarySuppression; "
    assert entry["hdh_cells"]["y"]["M"] == "fail"
    assert entry["hdh_suppressed"]["y"]["M"] is None
    regression = written["results"]["output_1"]
    assert regression["type"] == "regression"
    assert regression["properties"]["dof"] == 196
    assert regression["files"][0]["sdc"]["summary"]["MinimumDoFCheck"] == 0
    assert written["hdh_status"] == "fail"
    assert written["hdh_policy"]["min_count"] == 11
