"""Generated tables keep bounded row groups and move to a new file after a fixed
number of them, so no open Parquet writer holds an ever-growing footer."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from hdh.lake.models import DepositStatus
from hdh.lake.services import ingest
from hdh.synth import snds
from hdh.synth.arrow import TableWriters, table_files
from hdh.synth.schema import FieldShape, TableShape
from tests.factories.lake import create_producer, create_snds_base

SHAPE = TableShape("T", (FieldShape("ID", "integer"), FieldShape("V", "string")), ("ID",))


def test_row_groups_are_bounded_and_files_rotate(tmp_path, monkeypatch):
    monkeypatch.setattr(TableWriters, "ROW_GROUP_ROWS", 100)
    monkeypatch.setattr(TableWriters, "ROW_GROUPS_PER_FILE", 3)
    writers = TableWriters(tmp_path, {"T": SHAPE})
    first = 0
    for n in (250, 50, 120, 0, 99):
        writers.write("T", {"ID": list(range(first, first + n)), "V": ["x"] * n}, n)
        first += n
    writers.close()
    files = table_files(tmp_path, "T")
    # 250 rows fill the first file's three groups; 50 + 120 rows the second's; 99 a third.
    assert [f.name for f in files] == [f"part-0000{n}.parquet" for n in range(3)]
    groups = [pq.ParquetFile(f).metadata.num_row_groups for f in files]
    assert groups == [3, 3, 1]
    sizes = [
        pq.ParquetFile(f).metadata.row_group(i).num_rows
        for f in files
        for i in range(pq.ParquetFile(f).metadata.num_row_groups)
    ]
    assert max(sizes) <= 100
    ids = [i for f in files for i in pq.read_table(f).column("ID").to_pylist()]
    assert ids == list(range(first)) == list(range(519))
    assert writers.rows == {"T": 519}


@pytest.mark.django_db
def test_a_table_written_in_several_files_is_deposited_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(TableWriters, "ROW_GROUPS_PER_FILE", 1)
    result = snds.generate(
        spec=snds.SndsSpec(beneficiaries=900, seed=5, batch=300),
        out=tmp_path / "out",
        identity_out=tmp_path / "id",
        level1_key=bytes(32),
    )
    parts = table_files(result.folder, "IR_BEN_R")
    assert len(parts) == 3
    base = create_snds_base(tmp_path / "schema", slug="snds-parts")
    deposit = ingest(base=base, table="IR_BEN_R", files=parts, by=create_producer())
    assert deposit.status == DepositStatus.ACCEPTED, deposit.report["findings"]
    assert deposit.row_count == 900
