"""What an output looks like in the page: a capped table, an inline image, or text.

Nothing here returns a file to download: images go into the page as ``data:``
URIs, tables and text as values the template escapes. The type is told by the
file's content where it matters (an image must carry its format's signature),
so a renamed file cannot smuggle something else into the page.
"""

from __future__ import annotations

import base64
import csv
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

MAX_ROWS = 1000
MAX_COLUMNS = 200
MAX_CELL = 1000
IMAGE_LIMIT = 5 * 1024**2
TEXT_LIMIT = 200 * 1024
# Reading a CSV stops after this many bytes even when rows are long.
CSV_READ_LIMIT = 20 * 1024**2
XLSX_LIMIT = 50 * 1024**2

_SIGNATURES = {
    "image/png": b"\x89PNG\r\n\x1a\n",
    "image/jpeg": b"\xff\xd8\xff",
}
TEXT_SUFFIXES = {".txt", ".md", ".log"}


@dataclass
class Preview:
    """``kind``: "table", "image", "text" or "none" (metadata only, with ``note``)."""

    kind: str
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    truncated: bool = False
    data_uri: str = ""
    text: str = ""
    note: str = ""


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= MAX_CELL else text[:MAX_CELL] + "…"


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Spreadsheets saved on French systems are often Windows-1252.
        return data.decode("cp1252", errors="replace")


def _csv(path: Path) -> Preview:
    with path.open("rb") as handle:
        data = handle.read(CSV_READ_LIMIT + 1)
    partial = len(data) > CSV_READ_LIMIT
    text = _decode(data[:CSV_READ_LIMIT])
    if partial:
        # The last line may be cut: keep whole lines only.
        text = text[: text.rfind("\n") + 1]
    try:
        dialect: Any = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    rows: list[list[str]] = []
    truncated = partial
    header: list[str] = []
    try:
        for index, row in enumerate(reader):
            if index == 0:
                header = [_cell(c) for c in row[:MAX_COLUMNS]]
                truncated = truncated or len(row) > MAX_COLUMNS
                continue
            if len(rows) >= MAX_ROWS:
                truncated = True
                break
            truncated = truncated or len(row) > MAX_COLUMNS
            rows.append([_cell(c) for c in row[:MAX_COLUMNS]])
    except csv.Error:
        return Preview(kind="none", note=_("Ce fichier CSV n'a pas pu être lu."))
    return Preview(kind="table", columns=header, rows=rows, truncated=truncated)


def _xlsx(path: Path) -> Preview:
    from openpyxl import load_workbook

    if path.stat().st_size > XLSX_LIMIT or not zipfile.is_zipfile(path):
        return Preview(kind="none", note=_("Ce classeur n'a pas pu être lu."))
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception:
        return Preview(kind="none", note=_("Ce classeur n'a pas pu être lu."))
    try:
        if not workbook.worksheets:
            return Preview(kind="table")
        sheet = workbook.worksheets[0]
        header: list[str] = []
        rows: list[list[str]] = []
        truncated = len(workbook.worksheets) > 1
        for index, row in enumerate(sheet.iter_rows(values_only=True)):
            if index == 0:
                header = [_cell(c) for c in row[:MAX_COLUMNS]]
                continue
            if len(rows) >= MAX_ROWS:
                truncated = True
                break
            rows.append([_cell(c) for c in row[:MAX_COLUMNS]])
        return Preview(kind="table", columns=header, rows=rows, truncated=truncated)
    except Exception:
        return Preview(kind="none", note=_("Ce classeur n'a pas pu être lu."))
    finally:
        workbook.close()


def _image(path: Path, size: int) -> Preview:
    if size > IMAGE_LIMIT:
        return Preview(kind="none", note=_("Image trop grande pour être affichée (5 Mo au plus)."))
    data = path.read_bytes()
    for media_type, signature in _SIGNATURES.items():
        if data.startswith(signature):
            encoded = base64.b64encode(data).decode("ascii")
            return Preview(kind="image", data_uri=f"data:{media_type};base64,{encoded}")
    return Preview(kind="none", note=_("Ce fichier n'est pas une image PNG ou JPEG valide."))


def _text(path: Path) -> Preview:
    with path.open("rb") as handle:
        data = handle.read(TEXT_LIMIT + 1)
    return Preview(
        kind="text",
        text=data[:TEXT_LIMIT].decode("utf-8", errors="replace"),
        truncated=len(data) > TEXT_LIMIT,
    )


def preview_file(path: Path, name: str, size: int) -> Preview:
    """The preview of the file ``path`` whose recorded name is ``name``."""
    suffix = Path(name).suffix.lower()
    if suffix in (".csv", ".tsv"):
        return _csv(path)
    if suffix == ".xlsx":
        return _xlsx(path)
    if suffix in (".png", ".jpg", ".jpeg"):
        return _image(path, size)
    if suffix in TEXT_SUFFIXES:
        return _text(path)
    return Preview(kind="none", note=_("Pas d'aperçu pour ce type de fichier."))
