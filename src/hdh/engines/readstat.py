"""SAS and Stata files, streamed through ReadStat (pyreadstat) into Parquet.

Neither format is read natively by the engines; converting chunk by chunk keeps
memory flat whatever the file size.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hdh.engines import files

CHUNK_ROWS = 100_000


class UnreadableFile(ValueError):
    """The file is not a readable file of the announced format."""


def to_parquet(path: Path, target: Path, kind: str) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq
    import pyreadstat

    reader: Any = {"sas": pyreadstat.read_sas7bdat, "stata": pyreadstat.read_dta}[kind]
    writer = None
    try:
        with files.atomic_path(target) as temporary:
            try:
                chunks = pyreadstat.read_file_in_chunks(reader, str(path), chunksize=CHUNK_ROWS)
                for frame, _meta in chunks:
                    table = pa.Table.from_pandas(frame, preserve_index=False)
                    if writer is None:
                        writer = pq.ParquetWriter(temporary, table.schema)
                    writer.write_table(table.cast(writer.schema))
            except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError) as exc:
                raise UnreadableFile(str(exc)) from exc
            except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
                raise UnreadableFile("columns change type between chunks") from exc
            if writer is None:
                _, meta = reader(str(path), metadataonly=True)
                names = list(meta.column_names)
                writer = pq.ParquetWriter(temporary, pa.schema([(n, pa.string()) for n in names]))
            writer.close()
            writer = None
    finally:
        if writer is not None:
            writer.close()
    return target
