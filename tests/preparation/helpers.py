"""Drive the real services to an approved plan and a published dataset."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from hdh.access.models import Permit
from hdh.accounts.models import User
from hdh.core import lake
from hdh.preparation import services
from hdh.preparation.models import ExtractionPlan, PreparationRun, ProjectDataset

NIR_PATTERN = re.compile(r"^[12378][0-9]{4}(?:[0-9]{2}|2A|2B)[0-9]{6}[0-9]{2}$")


def approved_plan(permit: Permit, by: User, **edits: Any) -> ExtractionPlan:
    plan = services.create_plan(permit=permit, by=by)
    edits.setdefault("potential_override", f"Autorisation {permit.reference}, article 2.")
    services.update_plan(plan=plan, by=by, **edits)
    return services.approve_plan(plan=plan, by=by)


def run(plan: ExtractionPlan, by: User | None, engine: str = "duckdb") -> PreparationRun:
    started = services.start_run(plan=plan, by=by, engine=engine)
    done = services.execute_run(started.pk)
    assert done is not None
    assert done.status == "succeeded", done.error
    return done


def tables(dataset: ProjectDataset) -> dict[str, list[dict[str, Any]]]:
    folder = lake.root() / dataset.path
    return {
        entry["table"]: pq.read_table(folder / entry["path"]).to_pylist()
        for entry in dataset.manifest["tables"]
    }


def column_values(dataset: ProjectDataset, table: str, column: str) -> set[Any]:
    return {row[column] for row in tables(dataset)[table] if row[column] is not None}


def every_text(dataset: ProjectDataset) -> set[str]:
    found: set[str] = set()
    for rows in tables(dataset).values():
        for row in rows:
            found |= {value for value in row.values() if isinstance(value, str)}
    return found


def folder_of(dataset: ProjectDataset) -> Path:
    return lake.root() / dataset.path
