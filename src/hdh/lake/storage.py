# SQL here is built from catalogued names, each quoted by the dialect, and from
# literals escaped by it; no user value is ever spliced in.
# ruff: noqa: S608
"""Where versions live in the lake and what their manifest says.

``<lake>/<base>/<TABLE>/v0001/`` holds ``data-00000.parquet`` and
``manifest.json`` (row counts, sizes, SHA-256 of every file, schema, and the
deposited files' names and checksums). A version is written in a staging
folder beside it and renamed into place only once complete.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from hdh.core import lake
from hdh.engines import Engine, files
from hdh.synth.schema import TableShape

MANIFEST = "manifest.json"
FORMAT = "hdh.lake.version/1"


def version_path(base_slug: str, table: str, number: int) -> Path:
    return lake.path(base_slug, table, f"v{number:04d}")


def staging_path(base_slug: str, table: str) -> Path:
    return lake.path(base_slug, table, f"staging-{uuid.uuid4().hex}")


def relative(path: Path) -> str:
    return str(path.relative_to(lake.root()))


def data_files(path: Path) -> list[Path]:
    manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    return [path / entry["path"] for entry in manifest["files"]]


def write(
    engine: Engine,
    *,
    relation: str,
    shape: TableShape,
    folder: Path,
    base_slug: str,
    sources: list[dict[str, Any]],
) -> tuple[dict[str, Any], str]:
    """Write the data and manifest into ``folder``; return the manifest and its SHA-256."""
    folder.mkdir(parents=True, exist_ok=False)
    columns = ", ".join(engine.quote(name) for name in shape.names)
    # Rows keep the files' order: the engine preserves insertion order, no sort needed.
    written = engine.write_parquet(
        f"SELECT {columns} FROM {relation}", folder / "data-00000.parquet"
    )
    manifest = {
        "format": FORMAT,
        "base": base_slug,
        "table": shape.name,
        "rows": written.rows,
        "files": [
            {
                "path": written.path.name,
                "rows": written.rows,
                "bytes": written.bytes,
                "sha256": written.sha256,
            }
        ],
        "schema": [{"name": f.name, "type": f.column.storage} for f in shape.fields],
        "sources": sources,
    }
    target = folder / MANIFEST
    with files.atomic_path(target) as temporary:
        temporary.write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
    return manifest, files.sha256_of(target)


def verify(path: Path) -> list[str]:
    """Problems found re-reading a version against its manifest (empty when intact)."""
    manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    problems = []
    for entry in manifest["files"]:
        data = path / entry["path"]
        if not data.exists():
            problems.append(f"{entry['path']}: missing")
        elif files.sha256_of(data) != entry["sha256"]:
            problems.append(f"{entry['path']}: checksum differs")
    return problems
