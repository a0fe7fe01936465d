"""Small synthetic samples of one catalogued table, for researchers to write code with."""

from __future__ import annotations

import io

from hdh.catalog.models import Base
from hdh.synth import catalogued, generic


def csv_sample(*, base: Base, table: str, rows: int, seed: int = 0) -> bytes:
    """``rows`` synthetic rows of ``table`` as a ``;``-separated UTF-8 CSV."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    (shape,) = catalogued.shapes_of(base, [table])
    codes = catalogued.code_values(base, [shape], limit=catalogued.MAX_CODES)
    batches = [
        pa.table({name: columns[name] for name in shape.names})
        for columns in generic.batches(shape, rows, seed=seed, codes=codes)
    ]
    out = io.BytesIO()
    data = pa.concat_tables(batches) if batches else shape.arrow_schema().empty_table()
    pacsv.write_csv(data, out, pacsv.WriteOptions(delimiter=";"))
    return out.getvalue()
