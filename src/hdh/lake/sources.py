"""Recognising deposited files: format, and for CSV the encoding, delimiter and header.

Only a sample is read to decide; a file in another encoding than UTF-8 is
re-encoded chunk by chunk, never held whole in memory.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from pathlib import Path

from hdh.engines import Source
from hdh.engines.base import DEFAULT_MAX_LINE_BYTES
from hdh.lake.report import Report

SAMPLE_BYTES = 256 * 1024
CHUNK = 1024 * 1024
DELIMITERS = (";", ",", "\t", "|")
EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".sas7bdat": "sas",
    ".dta": "stata",
}
MAX_LINE_BYTES = DEFAULT_MAX_LINE_BYTES


@dataclass
class Deposited:
    """One deposited file as the engine will read it."""

    name: str
    path: Path
    source: Source
    encoding: str = ""
    delimiter: str = ""


def recognise(path: Path, *, name: str, workdir: Path, report: Report) -> Deposited | None:
    """How to read ``path``, or ``None`` after adding the reason to ``report``."""
    kind = EXTENSIONS.get(path.suffix.lower()) or EXTENSIONS.get(Path(name).suffix.lower())
    if path.stat().st_size == 0:
        report.add("file.empty", file=name)
        return None
    with path.open("rb") as handle:
        head = handle.read(SAMPLE_BYTES)
        if kind == "parquet" or head[:4] == b"PAR1":
            handle.seek(max(0, path.stat().st_size - 4))
            if head[:4] != b"PAR1" or handle.read(4) != b"PAR1":
                report.add("file.unreadable", file=name, detail="Parquet")
                return None
            return Deposited(name, path, Source((path,), "parquet", row_numbers=True))
    if kind in {"sas", "stata"}:
        return Deposited(name, path, Source((path,), kind, row_numbers=True))
    if (
        kind is None
        and b"\x00" in head
        and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    ):
        report.add("file.format", file=name)
        return None
    return _csv(path, name=name, head=head, workdir=workdir, report=report)


def _encoding(head: bytes) -> str | None:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    # French producers' non-UTF-8 exports are almost always Windows-1252; any
    # single-byte text decodes in it, so ask the detector only when it does not.
    try:
        head.decode("cp1252")
        if b"\x00" not in head:
            return "cp1252"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(head).best()
    return best.encoding if best is not None else None


def _csv(path: Path, *, name: str, head: bytes, workdir: Path, report: Report) -> Deposited | None:
    encoding = _encoding(head)
    if encoding is None:
        report.add("file.encoding", file=name, detail="encodage non reconnu")
        return None
    text = head.decode(encoding, errors="replace")
    header_line = text.lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")
    if len(header_line.encode("utf-8")) >= MAX_LINE_BYTES:
        report.add("csv.line_too_long", file=name, row=0, detail="en-tête")
        return None
    delimiter = max(DELIMITERS, key=header_line.count)
    if not header_line.count(delimiter):
        delimiter = ","
    header = next(csv.reader(io.StringIO(header_line), delimiter=delimiter), [])
    columns = tuple(c.strip() for c in header)
    if not columns or any(not c for c in columns) or len(set(columns)) != len(columns):
        report.add("csv.malformed", file=name, row=0, detail="en-tête vide ou en double")
        return None
    readable = path
    if encoding not in {"utf-8", "utf-8-sig"}:
        readable = workdir / f"{len(list(workdir.iterdir()))}-utf8.csv"
        if not _transcode(path, readable, encoding, name=name, report=report):
            return None
    source = Source(
        (readable,),
        "csv",
        delimiter=delimiter,
        columns=columns,
        max_line_bytes=MAX_LINE_BYTES,
    )
    return Deposited(name, path, source, encoding=encoding, delimiter=delimiter)


def _transcode(path: Path, target: Path, encoding: str, *, name: str, report: Report) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    lines = 0
    with path.open("rb") as source, target.open("w", encoding="utf-8", newline="") as out:
        while chunk := source.read(CHUNK):
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError:
                report.add("file.encoding", file=name, row=lines, detail=encoding)
                return False
            lines += text.count("\n")
            out.write(text)
        out.write(decoder.decode(b"", final=True))
    return True
