"""A project with a published dataset, the SNDS identities beside the lake, and an
external cohort made from those identities with realistic errors."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from hdh.preparation import linkages
from hdh.preparation.models import LinkageRun, ProjectDataset
from hdh.synth import identity, snds
from tests.preparation.conftest import World
from tests.preparation.helpers import approved_plan, run

COHORT_SIZE = 150


@dataclass
class Linkable:
    world: World
    dataset: ProjectDataset
    identities: pd.DataFrame  # IR_IDENTITE as generated (NIR included)
    cohort_csv: bytes
    truth: dict[str, str | None]  # record id -> level-1 pseudonym (None: an outsider)


def identity_frame(result: snds.SndsResult) -> pd.DataFrame:
    return pq.read_table(result.identity / "IR_IDENTITE" / "part-00000.parquet").to_pandas()


def make_cohort(
    result: snds.SndsResult, size: int = COHORT_SIZE, seed: int = 3
) -> tuple[bytes, dict[str, str | None]]:
    frame = identity_frame(result)
    residence = pq.read_table(
        result.folder / "IR_BEN_R" / "part-00000.parquet", columns=["BEN_NIR_PSA", "BEN_RES_DPT"]
    ).to_pandas()
    frame = frame.merge(residence.drop_duplicates("BEN_NIR_PSA"), on="BEN_NIR_PSA").rename(
        columns={
            "BEN_NIR_PSA": "person_id",
            "BEN_SEX_COD": "sex",
            "BEN_RES_DPT": "department",
            "BEN_PRENOM": "first_name",
            "BEN_NOM_USAGE": "surname",
            "BEN_NOM_NAISSANCE": "birth_name",
            "BEN_NAI_DTE": "birth_date",
            "BEN_CODE_POSTAL": "postcode",
        }
    )
    cohort, truth = identity.external_cohort(frame, size=size, seed=seed)
    mapping = {
        str(record): (None if pd.isna(person) else str(person))
        for record, person in zip(truth["record_id"], truth["person_id"], strict=True)
    }
    return cohort.to_csv(index=False).encode("utf-8"), mapping


def place_identities(settings: Any, tmp_path: Path, result: snds.SndsResult) -> Path:
    """IR_IDENTITE where the platform keeps it: outside the lake, per base."""
    root = tmp_path / "identities"
    (root / "snds").mkdir(parents=True)
    (root / "snds" / "IR_IDENTITE").symlink_to(result.identity / "IR_IDENTITE")
    settings.HDH_IDENTITIES = root
    return root


def make_linkable(
    world: World, settings: Any, tmp_path: Path, synthetic_snds: snds.SndsResult
) -> Linkable:
    settings.HDH_HOME = tmp_path / "home"
    place_identities(settings, tmp_path, synthetic_snds)
    prepared = run(approved_plan(world.permit, world.engineer), world.engineer)
    csv, truth = make_cohort(synthetic_snds)
    return Linkable(world, prepared.dataset, identity_frame(synthetic_snds), csv, truth)


def chunks_of(data: bytes, size: int = 64 * 1024) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)] or [b""]


def request(linkable: Linkable, data: bytes | None = None, **kwargs: Any) -> LinkageRun:
    return linkages.request_linkage(
        permit=linkable.world.permit,
        chunks=chunks_of(linkable.cohort_csv if data is None else data),
        name=kwargs.pop("name", "cohorte.csv"),
        by=kwargs.pop("by", linkable.world.engineer),
        **kwargs,
    )


def leftovers(settings: Any) -> list[Path]:
    """Files left under the linkage folder (cohorts waiting or stuck)."""
    root = Path(settings.HDH_HOME) / "linkage"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []
