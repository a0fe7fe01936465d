"""Checking a table file already written (CSV or XLSX), for the review page.

The file is read defensively: a size cap, no formulas (a cell starting with
``=``, ``+``, ``-``, ``@``, tab or carriage return that is not a number is
refused, as spreadsheet software would execute it), a cap on cell length,
unique column names, and an XLSX must be a ZIP whose inflated size is bounded.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import content
from .evidence import TableError
from .policy import Policy
from .report import Finding, OutputReport, Report, Verdict
from .tables import crosstab, judge

NAN_TOKENS = ("nan", "-nan", "+nan")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
SUPPRESSED = {
    "",
    "na",
    "n/a",
    "[redacted]",
    "redacted",
    "[supprimé]",
    "supprimé",
    "s",
    "c",
    "x",
    "*",
}


@dataclasses.dataclass(frozen=True)
class FileMetadata:
    """What the requester declares about a table file.

    ``count_columns`` hold frequencies; ``magnitude_columns`` hold sums or means
    whose dominance needs the row-level ``source`` (keyword arguments of
    :func:`crosstab` plus ``path`` to a Parquet or CSV file). Numeric columns that
    are declared neither way are checked as counts. ``margins``: the last row and
    the last numeric column are totals. ``rounded_to``: the declared rounding base.
    """

    index_columns: tuple[str, ...] = ()
    count_columns: tuple[str, ...] = ()
    magnitude_columns: tuple[str, ...] = ()
    margins: bool = False
    rounded_to: int | None = None
    source: Mapping[str, Any] | None = None

    @classmethod
    def from_mapping(cls, data: FileMetadata | Mapping[str, Any] | None) -> FileMetadata:
        if data is None:
            return cls()
        if isinstance(data, FileMetadata):
            return data
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise TableError(f"unknown metadata: {', '.join(unknown)}")
        values = dict(data)
        for name in ("index_columns", "count_columns", "magnitude_columns"):
            if name in values:
                values[name] = tuple(str(item) for item in values[name])
        return cls(**values)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_csv(raw: bytes, policy: Policy) -> list[list[str]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise TableError("le fichier n’est pas en UTF-8") from error
    sample = text[:4096]
    delimiter = max((",", ";", "\t"), key=sample.count) if sample else ","
    previous = csv.field_size_limit()
    csv.field_size_limit(policy.max_cell_chars + 1)
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as error:
        raise TableError(f"CSV illisible : {error}") from error
    finally:
        csv.field_size_limit(previous)


def _read_xlsx(path: Path, policy: Policy) -> dict[str, list[list[str]]]:
    if not zipfile.is_zipfile(path):
        raise TableError("ce fichier XLSX n’est pas une archive ZIP valide")
    with zipfile.ZipFile(path) as archive:
        inflated = sum(info.file_size for info in archive.infolist())
    if inflated > 8 * policy.max_file_bytes:
        raise TableError("archive XLSX trop volumineuse une fois décompressée")
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as error:  # openpyxl raises many types on corrupt files
        raise TableError(f"XLSX illisible : {type(error).__name__}") from error
    sheets: dict[str, list[list[str]]] = {}
    try:
        for sheet in workbook.worksheets:
            rows: list[list[str]] = []
            for row in sheet.iter_rows(values_only=True):
                rows.append(["" if value is None else str(value) for value in row])
            sheets[sheet.title] = rows
    finally:
        workbook.close()
    return sheets


def _frame(rows: list[list[str]], policy: Policy, report: OutputReport) -> pd.DataFrame | None:
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        report.findings.append(Finding("empty", Verdict.REVIEW, "tableau vide"))
        return None
    header = [cell.strip() for cell in rows[0]]
    width = max(len(row) for row in rows)
    header += [""] * (width - len(header))
    body = [row + [""] * (width - len(row)) for row in rows[1:]]
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        shown = ", ".join(repr(name[:40]) for name in duplicated)
        report.findings.append(
            Finding("columns", Verdict.FAIL, f"noms de colonnes en double : {shown}")
        )
        return None
    cells = [*header, *(cell for row in body for cell in row)]
    if any(len(cell) > policy.max_cell_chars for cell in cells):
        report.findings.append(
            Finding(
                "cell-length",
                Verdict.FAIL,
                f"cellule de plus de {policy.max_cell_chars} caractères",
            )
        )
        return None
    formulas = [cell for cell in cells if cell.startswith(FORMULA_START) and not _is_number(cell)]
    if formulas:
        report.findings.append(
            Finding(
                "formula", Verdict.FAIL, f"{len(formulas)} cellule(s) commençant comme une formule"
            )
        )
        return None
    if not body:
        report.findings.append(Finding("empty", Verdict.REVIEW, "tableau sans ligne"))
        return None
    return pd.DataFrame(body, columns=header, dtype=object)


def _numeric(column: pd.Series) -> pd.Series | None:
    """The column as floats (suppression markers become NaN) or None if text."""
    stripped = column.astype(str).str.strip()
    lowered = stripped.str.lower()
    markers = lowered.isin(SUPPRESSED)
    converted = pd.to_numeric(stripped.where(~markers), errors="coerce")
    if (converted.isna() & ~markers & ~lowered.isin(NAN_TOKENS)).any():
        return None
    return converted.astype(float)


def check_table_frame(
    frame: pd.DataFrame,
    metadata: FileMetadata,
    *,
    policy: Policy,
    report: OutputReport,
) -> OutputReport:
    report.findings.extend(content.identifier_columns(frame, policy))
    numeric = {name: _numeric(frame[name]) for name in frame.columns}
    declared = set(metadata.index_columns)
    unknown = [
        name
        for name in (*metadata.index_columns, *metadata.count_columns, *metadata.magnitude_columns)
        if name not in frame.columns
    ]
    if unknown:
        raise TableError(f"colonnes déclarées absentes : {', '.join(unknown)}")
    value_columns = [
        name
        for name in frame.columns
        if name not in declared and (numeric[name] is not None or name in metadata.count_columns)
    ]
    labels = [name for name in frame.columns if name not in value_columns]
    for name in metadata.count_columns + metadata.magnitude_columns:
        if numeric[name] is None:
            raise TableError(f"la colonne {name} n’est pas numérique")
    counts = [name for name in value_columns if name not in metadata.magnitude_columns]
    report.findings.extend(content.microdata_frame(frame, counts, policy))
    values = (
        np.column_stack(
            [
                np.full(len(frame), np.nan) if series is None else series.to_numpy(dtype=float)
                for series in (numeric[name] for name in value_columns)
            ]
        )
        if value_columns
        else np.zeros((len(frame), 0))
    )
    index = (
        pd.MultiIndex.from_frame(frame[labels])
        if len(labels) > 1
        else (pd.Index(frame[labels[0]]) if labels else pd.RangeIndex(len(frame)))
    )
    table = pd.DataFrame(values, index=index, columns=value_columns)
    report.table = table
    is_count = np.array([name in counts for name in value_columns], dtype=bool)
    count_cells = np.broadcast_to(is_count, values.shape)
    shown = np.isfinite(values)
    # A count of 0 is a zero cell; a suppressed (blank) cell is already protected.
    report.masks["threshold"] = count_cells & shown & (values < policy.min_count)
    if policy.zeros_disclosive:
        report.masks["zero"] = count_cells & shown & (values == 0)
    report.masks["negative"] = count_cells & shown & (values < 0)
    nan_tokens = np.zeros(values.shape, dtype=bool)
    for position, name in enumerate(value_columns):
        text = frame[name].astype(str).str.strip().str.lower()
        nan_tokens[:, position] = text.isin(NAN_TOKENS).to_numpy(dtype=bool)
    report.masks["non-finite"] = np.isinf(values) | nan_tokens
    if metadata.rounded_to:
        not_multiple, findings = content.rounding_masks(
            np.where(count_cells, values, np.nan),
            base=metadata.rounded_to,
            margins=metadata.margins,
        )
        report.masks["not-rounded"] = not_multiple
        report.findings.extend(findings)
    if metadata.magnitude_columns and metadata.source is None:
        report.findings.append(
            Finding(
                "dominance",
                Verdict.REVIEW,
                "dominance et règle p % non vérifiables sans les données individuelles source : "
                + ", ".join(metadata.magnitude_columns),
            )
        )
    cost = np.where(shown, np.abs(values), 0.0)
    return judge(report, margins=metadata.margins, cost=cost)


def _source_report(source: Mapping[str, Any], policy: Policy, uid: str) -> OutputReport:
    arguments = dict(source)
    path = Path(str(arguments.pop("path")))
    import duckdb

    reader = "read_parquet" if path.suffix.lower() == ".parquet" else "read_csv_auto"
    connection = duckdb.connect()
    try:
        relation = connection.sql(f"SELECT * FROM {reader}(?)", params=[str(path)])  # noqa: S608
        frame = relation.df()
    finally:
        connection.close()
    return crosstab(frame, policy=policy, uid=uid, **arguments)


def check_file(
    path: str | Path,
    metadata: FileMetadata | Mapping[str, Any] | None = None,
    *,
    policy: Policy | None = None,
) -> Report:
    """Check a CSV or XLSX table; one output per CSV file or XLSX sheet."""
    policy = policy or Policy()
    path = Path(path)
    report = Report(policy=policy)
    meta = FileMetadata.from_mapping(metadata)

    def output(uid: str) -> OutputReport:
        return report.add(
            OutputReport(
                uid=uid, output_type="table", method="file", policy=policy, files=[path.name]
            )
        )

    try:
        size = path.stat().st_size
        if size > policy.max_file_bytes:
            raise TableError(f"fichier de plus de {policy.max_file_bytes} octets")
        suffix = path.suffix.lower()
        if suffix in (".csv", ".tsv", ".txt"):
            sheets = {"": _read_csv(path.read_bytes(), policy)}
        elif suffix in (".xlsx", ".xlsm"):
            sheets = _read_xlsx(path, policy)
        else:
            raise TableError(f"type de fichier non pris en charge : {suffix or 'sans extension'}")
    except (TableError, OSError) as error:
        output(path.name).findings.append(Finding("file", Verdict.FAIL, str(error)))
        return report
    for sheet, rows in sheets.items():
        uid = f"{path.name}:{sheet}" if sheet else path.name
        current = output(uid)
        try:
            frame = _frame(rows, policy, current)
            if frame is not None:
                check_table_frame(frame, meta, policy=policy, report=current)
        except TableError as error:
            current.findings.append(Finding("file", Verdict.FAIL, str(error)))
    if meta.source is not None:
        try:
            report.add(_source_report(meta.source, policy, f"{path.name}:source"))
        except Exception as error:  # the source is the requester's file: any failure is a finding
            output(f"{path.name}:source").findings.append(
                Finding("source", Verdict.FAIL, f"source illisible : {type(error).__name__}")
            )
    return report
