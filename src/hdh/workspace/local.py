"""Code to data: a synthetic dataset laid out like a project's, for ``hdh run``.

A researcher writes and tests a job on their own machine before any access:
the dataset holds one ``<TABLE>.parquet`` per catalogued table (the synthetic
sample the catalog offers for download, generated from the dictionary alone)
and a ``manifest.json``, like a prepared project dataset, so the same script
later runs unchanged in the workspace.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hdh.catalog.models import Base
from hdh.synth import catalogued, samples
from hdh.workspace.sql import TABLE_NAME

MANIFEST = "manifest.json"
MANIFEST_FORMAT = "hdh.synthetic.dataset/1"


@dataclass(frozen=True)
class SyntheticTable:
    table: str
    path: str
    rows: int
    bytes: int
    sha256: str
    columns: list[str]


def catalogued_tables(base: Base) -> list[str]:
    """The tables of the base's current dictionary, in catalog order."""
    return [table.name for table in catalogued.tables_of(base)]


def build_synthetic_dataset(
    *, base: Base, tables: Sequence[str], rows: int, into: Path, skip_failures: bool = False
) -> tuple[list[SyntheticTable], list[tuple[str, str]]]:
    """Write ``rows`` synthetic rows of each table into the empty folder ``into``.

    Returns the tables written and, with ``skip_failures``, the tables whose
    sample could not be generated with the reason (else that raises
    :class:`ValueError`). Raises :class:`~hdh.core.errors.ValidationFailed`
    for a table not in the base's dictionary and :class:`ValueError` for a
    size out of bounds or a table name that cannot be a file or SQL name.
    """
    import pyarrow.parquet as pq

    catalogued.tables_of(base, tables)  # names every unknown table at once
    written = []
    skipped: list[tuple[str, str]] = []
    for table in tables:
        if not TABLE_NAME.fullmatch(table):
            raise ValueError(f"table name not usable as a file name: {table!r}")
        try:
            content = samples.sample(base=base, table=table, rows=rows, fmt="parquet")
        except ValueError as exc:  # pyarrow's errors on a shape it cannot fill
            if not skip_failures:
                raise ValueError(f"{table}: {exc}") from exc
            skipped.append((table, str(exc)[:200]))
            continue
        path = into / f"{table}.parquet"
        path.write_bytes(content)
        metadata = pq.read_metadata(path)
        written.append(
            SyntheticTable(
                table=table,
                path=path.name,
                rows=metadata.num_rows,
                bytes=len(content),
                sha256=hashlib.sha256(content).hexdigest(),
                columns=list(metadata.schema.names),
            )
        )
    manifest = {
        "format": MANIFEST_FORMAT,
        "synthetic": True,
        "base": base.slug,
        "seed": samples.SEED,
        "tables": [vars(t) for t in written],
    }
    (into / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
    return written, skipped
