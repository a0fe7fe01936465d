"""Synthetic data passes the lake's own validation against the catalog: types,
lengths, constraints, code lists, primary and foreign keys."""

from __future__ import annotations

import pytest

from hdh.lake.models import DepositStatus
from hdh.lake.services import ingest
from hdh.synth import catalogued, generic, snds
from hdh.synth.schema import snds_shapes
from tests.factories.lake import create_producer, create_snds_base

pytestmark = pytest.mark.django_db


def deposit_all(base, folder, tables):
    producer = create_producer()
    outcomes = {}
    for table in tables:
        path = folder / table / "part-00000.parquet"
        deposit = ingest(base=base, table=table, files=[path], by=producer)
        outcomes[table] = (
            deposit.status,
            [(f["rule"], f["column"]) for f in deposit.report["findings"]],
        )
    return outcomes


def test_the_snds_generator_passes_validation(tmp_path):
    base = create_snds_base(tmp_path / "schema", slug="snds")
    shapes = snds_shapes(snds.TABLES, base_slug="snds")
    result = snds.generate(
        spec=snds.SndsSpec(beneficiaries=1500, seed=3),
        out=tmp_path / "out",
        identity_out=tmp_path / "id",
        shapes=shapes,
    )
    outcomes = deposit_all(base, result.folder, snds.TABLES)
    assert outcomes == dict.fromkeys(snds.TABLES, (DepositStatus.ACCEPTED, []))


def test_the_generic_generator_passes_validation_on_snds_tables(tmp_path):
    base = create_snds_base(tmp_path / "schema")
    shapes = catalogued.shapes_of(base, snds.TABLES)
    written = generic.generate_tables(
        shapes=shapes,
        rows=300,
        out=tmp_path / "generic",
        seed=5,
        codes=catalogued.code_values(base, shapes),
    )
    assert set(written) == set(snds.TABLES)
    ordered = [s.name for s in generic.parent_first(shapes)]
    assert ordered.index("IR_BEN_R") < ordered.index("ER_PRS_F") < ordered.index("ER_PHA_F")
    outcomes = deposit_all(base, tmp_path / "generic", ordered)
    assert outcomes == dict.fromkeys(ordered, (DepositStatus.ACCEPTED, []))
