"""check_file on CSV and XLSX tables, including hostile files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from hdh.airlock import check
from hdh.airlock.check import Verdict


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def rules(report: check.Report) -> set[str]:
    found = set()
    for output in report.outputs.values():
        found |= {
            finding.rule for finding in output.findings if finding.verdict is not Verdict.PASS
        }
        found |= {rule for rule, mask in output.masks.items() if mask.any()}
    return found


def test_a_csv_with_a_cell_of_4_is_flagged_with_its_partner(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", "sexe,site_x,site_y\nF,40,30\nM,25,4\nN,33,31\n")
    report = check.check_file(
        path, {"index_columns": ["sexe"], "count_columns": ["site_x", "site_y"]}
    )
    (output,) = report.outputs.values()
    verdicts = output.cell_verdicts()
    assert verdicts.loc["M", "site_y"] == "fail"
    assert output.cell_reasons(1, 1) == ["threshold"]
    assert report.verdict is Verdict.FAIL
    assert "secondary" in rules(report)
    suppressed = output.suppressed()
    assert np.isnan(suppressed.loc["M", "site_y"])
    # The fixed file passes.
    fixed = write(tmp_path, "fixed.csv", "sexe,site_x,site_y\nF,40,30\nM+N,58,35\n")
    assert check.check_file(fixed).verdict is Verdict.PASS


def test_undeclared_numeric_columns_are_checked_as_counts(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", "age;n\n0-17;12\n18-64;3\n65+;40\n")
    report = check.check_file(path)
    assert "threshold" in rules(report)


def test_suppressed_markers_are_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", "age,n,m\nA,12,[redacted]\nB,13,\nC,40,50\n")
    assert check.check_file(path).verdict is Verdict.PASS


def test_formula_injection_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", 'age,n\nA,12\n"=HYPERLINK(""http://x"")",40\n')
    assert "formula" in rules(check.check_file(path))
    negative = write(tmp_path, "n.csv", "age,n\nA,-12\nB,40\n")
    assert "formula" not in rules(check.check_file(negative))


def test_huge_cells_and_huge_files_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", "age,n\n" + "A" * 200_000 + ",12\n")
    assert "cell-length" in rules(check.check_file(path)) or "file" in rules(check.check_file(path))
    big = write(tmp_path, "big.csv", "a,n\n" + "x,20\n" * 1000)
    small_policy = check.Policy(max_file_bytes=100)
    assert "file" in rules(check.check_file(big, policy=small_policy))


def test_duplicated_column_names_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", "age,n,n\nA,12,13\n")
    assert "columns" in rules(check.check_file(path))


def test_empty_and_header_only_files_go_to_review(tmp_path: Path) -> None:
    assert check.check_file(write(tmp_path, "e.csv", "")).verdict is Verdict.REVIEW
    assert check.check_file(write(tmp_path, "h.csv", "a,n\n")).verdict is Verdict.REVIEW


def test_non_finite_values_fail(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", "age,n\nA,inf\nB,nan\nC,40\n")
    assert "non-finite" in rules(check.check_file(path))


def test_not_utf8_and_unknown_types_fail(tmp_path: Path) -> None:
    latin = tmp_path / "l.csv"
    latin.write_bytes("âge,n\nA,12\n".encode("latin-1"))
    assert "file" in rules(check.check_file(latin))
    assert "file" in rules(check.check_file(write(tmp_path, "t.exe", "MZ")))
    assert "file" in rules(check.check_file(tmp_path / "missing.csv"))


def test_an_xlsx_that_is_not_a_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    report = check.check_file(path)
    assert report.verdict is Verdict.FAIL
    assert "ZIP" in next(iter(report.outputs.values())).findings[0].message


def test_a_real_xlsx_is_checked_sheet_by_sheet_and_formulas_are_refused(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "effectifs"
    for row in (["age", "n"], ["A", 12], ["B", 4], ["C", 30]):
        sheet.append(row)
    other = workbook.create_sheet("calc")
    for row in (["age", "n"], ["A", 12], ["B", "=SUM(B2:B2)"]):
        other.append(row)
    path = tmp_path / "t.xlsx"
    workbook.save(path)
    report = check.check_file(path)
    assert set(report.outputs) == {"t.xlsx:effectifs", "t.xlsx:calc"}
    assert report.outputs["t.xlsx:effectifs"].cell_reasons(1, 0) == ["threshold"]
    assert any(f.rule == "formula" for f in report.outputs["t.xlsx:calc"].findings)


def test_identifier_columns_and_values_are_refused(tmp_path: Path) -> None:
    by_name = write(tmp_path, "a.csv", "patient_id,n\np1,12\np2,40\n")
    assert "identifier" in rules(check.check_file(by_name))
    by_value = write(tmp_path, "b.csv", "code,n\n184127512345678,12\n2840575123456,40\n")
    assert "identifier" in rules(check.check_file(by_value))
    pseudonyms = write(tmp_path, "c.csv", "cle,n\n9f86d081884c7d659a2feaa0c55ad015,12\nx,40\n")
    assert "identifier" in rules(check.check_file(pseudonyms))


def test_row_level_microdata_is_refused(tmp_path: Path) -> None:
    lines = "\n".join(f"p{i},{i % 2},1" for i in range(30))
    path = write(tmp_path, "m.csv", "personne,sexe,n\n" + lines + "\n")
    report = check.check_file(path, {"index_columns": ["personne", "sexe"], "count_columns": ["n"]})
    assert "microdata" in rules(report)
    undeclared = write(
        tmp_path, "u.csv", "personne,age\n" + "\n".join(f"p{i},{20 + i}" for i in range(30))
    )
    output = next(
        iter(
            check.check_file(
                undeclared, {"index_columns": ["personne"], "magnitude_columns": ["age"]}
            ).outputs.values()
        )
    )
    assert any(f.rule == "microdata" and f.verdict is Verdict.REVIEW for f in output.findings)


def test_declared_rounding_is_verified(tmp_path: Path) -> None:
    good = write(tmp_path, "g.csv", "age,x,y,total\nA,15,20,35\nB,25,30,55\ntotal,40,50,90\n")
    meta = {"index_columns": ["age"], "margins": True, "rounded_to": 5}
    assert check.check_file(good, meta).verdict is Verdict.PASS
    bad_cell = write(tmp_path, "b.csv", "age,x,y,total\nA,15,21,35\nB,25,30,55\ntotal,40,50,90\n")
    assert "not-rounded" in rules(check.check_file(bad_cell, meta))
    bad_margin = write(tmp_path, "m.csv", "age,x,y,total\nA,15,20,60\nB,25,30,55\ntotal,40,50,90\n")
    assert "rounding" in rules(check.check_file(bad_margin, meta))


def test_magnitudes_need_their_source_for_dominance(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", "age,cout_moyen\nA,120.5\nB,80.25\n")
    meta = {"index_columns": ["age"], "magnitude_columns": ["cout_moyen"]}
    report = check.check_file(path, meta)
    assert report.verdict is Verdict.REVIEW
    assert "dominance" in rules(report)
    source = tmp_path / "rows.parquet"
    rows = pd.DataFrame(
        {"age": ["A"] * 12 + ["B"] * 12, "s": ["x"] * 24, "cout": [1000.0] + [1.0] * 23}
    )
    rows.to_parquet(source)
    meta["source"] = {
        "path": str(source),
        "index": "age",
        "columns": "s",
        "values": "cout",
        "aggfunc": "mean",
    }
    with_source = check.check_file(path, meta)
    assert with_source.outputs["t.csv:source"].masks["nk-rule"][0, 0]
    broken = dict(meta, source={"path": str(tmp_path / "none.parquet"), "index": "age"})
    assert "source" in rules(check.check_file(path, broken))


def test_unknown_metadata_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", "age,n\nA,12\n")
    with pytest.raises(check.TableError):
        check.check_file(path, {"exec": "rm -rf /"})
    report = check.check_file(path, {"count_columns": ["absent"]})
    assert "file" in rules(report)


def test_results_json_of_a_file_is_valid_json(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", "sexe,x,y\nF,40,30\nM,25,4\n")
    out = check.check_file(path).write(tmp_path / "results.json")
    data = json.loads(out.read_text())
    assert data["results"]["t.csv"]["status"] == "fail"
