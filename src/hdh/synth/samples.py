"""Small synthetic samples of one catalogued table, for researchers to write code with.

Generated from the catalogued shape alone (types, lengths, constraints, code
lists, keys): no deposited row is ever read. The same table and size give the
same bytes, so a sample can be cited and compared.
"""

from __future__ import annotations

import io
from typing import Literal

from hdh.catalog.models import Base
from hdh.synth import catalogued, generic

Format = Literal["csv", "parquet"]
FORMATS: tuple[Format, ...] = ("csv", "parquet")
DEFAULT_ROWS = 1000
MAX_ROWS = 10_000
SEED = 0


def sample(*, base: Base, table: str, rows: int = DEFAULT_ROWS, fmt: Format = "csv") -> bytes:
    """``rows`` (at most ``MAX_ROWS``) synthetic rows of ``table``, as CSV (``;``) or Parquet.

    Raises :class:`~hdh.core.errors.ValidationFailed` when ``table`` is not in
    the base's current dictionary, and :class:`ValueError` for a size or format
    out of bounds.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if not 1 <= rows <= MAX_ROWS:
        raise ValueError(f"a sample has 1 to {MAX_ROWS} rows")
    if fmt not in FORMATS:
        raise ValueError("a sample is CSV or Parquet")
    (shape,) = catalogued.shapes_of(base, [table])
    codes = catalogued.code_values(base, [shape], limit=catalogued.MAX_CODES)
    batches = [
        pa.table({name: columns[name] for name in shape.names})
        for columns in generic.batches(shape, rows, seed=SEED, codes=codes)
    ]
    data = pa.concat_tables(batches) if batches else shape.arrow_schema().empty_table()
    out = io.BytesIO()
    if fmt == "parquet":
        pq.write_table(data.cast(shape.arrow_schema()), out, compression="zstd")
    else:
        pacsv.write_csv(data, out, pacsv.WriteOptions(delimiter=";"))
    return out.getvalue()
