"""Building Arrow record batches that conform to a catalogued table's shape."""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from hdh.synth.schema import TableShape, arrow_type


def constant(value: Any, n: int, kind: pa.DataType) -> pa.Array:
    return pc.take(pa.array([value], type=kind), pa.array(np.zeros(n, dtype=np.int32)))


def take(values: pa.Array, indices: np.ndarray) -> pa.Array:
    return pc.take(values, pa.array(indices))


def conform(shape: TableShape, columns: dict[str, Any], n: int) -> pa.Table:
    """An Arrow table with every column of ``shape``, in order and with its storage type.

    Columns the generator did not fill are null; a generated column the shape
    does not declare is a programming error and raises.
    """
    unknown = set(columns) - set(shape.names)
    if unknown:
        raise KeyError(f"{shape.name} does not declare {', '.join(sorted(unknown))}")
    arrays = []
    for field in shape.fields:
        kind = arrow_type(field.column.storage)
        value = columns.get(field.name)
        if value is None:
            arrays.append(pa.nulls(n, type=kind))
            continue
        array = value if isinstance(value, pa.Array | pa.ChunkedArray) else pa.array(value)
        if array.type != kind:
            array = array.cast(kind)
        if len(array) != n:
            raise ValueError(f"{shape.name}.{field.name}: {len(array)} values for {n} rows")
        arrays.append(array)
    return pa.Table.from_arrays(arrays, schema=shape.arrow_schema())


def table_path(folder: Path, name: str, part: int = 0) -> Path:
    return folder / name / f"part-{part:05d}.parquet"


def table_files(folder: Path, name: str) -> list[Path]:
    """The Parquet files of one generated table, in order (one unless it is very large)."""
    return sorted((folder / name).glob("part-*.parquet"))


class TableWriters:
    """Parquet files per table, written batch by batch (memory stays flat).

    Encoding and compression run on a background thread (Arrow releases the
    GIL) while the next batch is generated; at most ``PENDING`` batches wait.
    Row groups hold at most ``ROW_GROUP_ROWS`` rows, and a table moves on to a
    new file (``part-00001.parquet``…) after ``ROW_GROUPS_PER_FILE`` row groups:
    a Parquet writer keeps every row group's metadata until its file closes,
    so one endless file would grow its footer, and the memory holding it, with
    the data.
    """

    PENDING = 4
    ROW_GROUP_ROWS = 1_000_000
    ROW_GROUPS_PER_FILE = 128

    def __init__(self, folder: Path, shapes: dict[str, TableShape]) -> None:
        self.folder = folder
        self.shapes = shapes
        self.rows: dict[str, int] = dict.fromkeys(shapes, 0)
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._parts: dict[str, int] = dict.fromkeys(shapes, 0)
        self._groups: dict[str, int] = dict.fromkeys(shapes, 0)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parquet")
        self._pending: deque[Future[None]] = deque()

    def path(self, name: str) -> Path:
        return table_path(self.folder, name, self._parts[name])

    def write(self, name: str, columns: dict[str, Any], n: int) -> None:
        shape = self.shapes[name]
        table = conform(shape, columns, n)
        groups = -(-n // self.ROW_GROUP_ROWS)
        writer = self._writers.get(name)
        if writer is not None and self._groups[name] + groups > self.ROW_GROUPS_PER_FILE:
            self._wait(0)
            writer.close()
            self._parts[name] += 1
            self._groups[name] = 0
            writer = None
        if writer is None:
            self.path(name).parent.mkdir(parents=True, exist_ok=True)
            writer = pq.ParquetWriter(
                self.path(name), table.schema, compression="zstd", compression_level=1
            )
            self._writers[name] = writer
        if n:
            self._wait(self.PENDING - 1)
            self._pending.append(
                self._pool.submit(writer.write_table, table, row_group_size=self.ROW_GROUP_ROWS)
            )
            self._groups[name] += groups
        self.rows[name] += n

    def _wait(self, most: int) -> None:
        """Let at most ``most`` batches wait to be written."""
        while len(self._pending) > most:
            self._pending.popleft().result()

    def close(self) -> None:
        try:
            for name in self.shapes:
                if name not in self._writers:
                    self.write(name, {}, 0)
            self._wait(0)
        finally:
            self._pool.shutdown(wait=True)
            for writer in self._writers.values():
                writer.close()
            self._writers.clear()
