# SQL here is built from catalogued names, each quoted by the dialect, and from
# literals escaped by it; no user value is ever spliced in.
# ruff: noqa: S608
"""The Apache Spark engine (PySpark 4). ``pyspark`` is imported only when one is created.

Local mode (``local[2]``) by default; ``HDH_SPARK_MASTER`` points it at a
cluster (``spark://host:7077``). Starting the JVM takes seconds, so a process
holds one Spark application and each engine is a light session of it, with its
own temporary views and SQL settings.

On a cluster, the lake and the output folders must be on storage every worker
sees at the same path (a shared file system), as Spark's executors read and
write the files themselves.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import shutil
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from hdh.engines.base import Engine, Source
from hdh.engines.dialects import SparkDialect

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DEFAULT_MASTER = "local[2]"
DEFAULT_DRIVER_MEMORY = "2g"

_lock = threading.Lock()
_application: SparkSession | None = None
_application_master: str | None = None
_application_dir: Path | None = None


def configured_master() -> str:
    return os.environ.get("HDH_SPARK_MASTER") or DEFAULT_MASTER


def _on_loopback(master: str) -> bool:
    if master.startswith("local"):
        return True
    return urlparse(master).hostname in {"127.0.0.1", "localhost", "::1"}


def application(
    master: str | None = None,
    *,
    driver_memory: str | None = None,
    config: dict[str, str] | None = None,
) -> SparkSession:
    """The process's Spark application, started on first use and then reused.

    Asking for another master stops the running application first (a process
    talks to one cluster at a time).
    """
    global _application, _application_master, _application_dir
    master = master or configured_master()
    with _lock:
        if _application is not None and _application_master == master:
            return _application
        if _application is not None:
            _stop_locked()
        from pyspark.logger import PySparkLogger
        from pyspark.sql import SparkSession

        # py4j logs each connection it closes, also from finalisers at exit.
        logging.getLogger("py4j").setLevel(logging.WARNING)
        # PySpark logs a failed statement's text, where key material may be inlined.
        for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
            PySparkLogger.getLogger(name).disabled = True
        folder = Path(tempfile.mkdtemp(prefix="hdh-spark-"))
        cores = os.cpu_count() or 2
        settings = {
            "spark.app.name": "hdh",
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
            "spark.sql.shuffle.partitions": str(max(2, cores)),
            "spark.sql.adaptive.enabled": "true",
            # Dates and times mean the same on every machine, and a TIMESTAMP has no
            # time zone, as in DuckDB and in Parquet files the lake writes.
            "spark.sql.session.timeZone": "UTC",
            "spark.sql.timestampType": "TIMESTAMP_NTZ",
            "spark.sql.ansi.enabled": "true",
            "spark.sql.parquet.compression.codec": "zstd",
            "spark.sql.catalogImplementation": "in-memory",
            # Deposits come in any Java charset (windows-1252...), not only Spark's short list.
            "spark.sql.legacy.javaCharsets": "true",
            "spark.sql.warehouse.dir": str(folder / "warehouse"),
            "spark.local.dir": str(folder / "local"),
            "spark.driver.extraJavaOptions": f"-Djava.io.tmpdir={folder / 'tmp'}",
            "spark.driver.memory": driver_memory
            or os.environ.get("HDH_SPARK_DRIVER_MEMORY")
            or DEFAULT_DRIVER_MEMORY,
            "spark.pyspark.python": sys.executable,
            "spark.pyspark.driver.python": sys.executable,
        }
        if _on_loopback(master):
            settings["spark.driver.host"] = "127.0.0.1"
            settings["spark.driver.bindAddress"] = "127.0.0.1"
        settings.update(config or {})
        for sub in ("warehouse", "local", "tmp"):
            (folder / sub).mkdir()
        builder = SparkSession.builder.master(master)
        for key, value in settings.items():
            builder = builder.config(key, value)
        session = builder.getOrCreate()
        # Spark logs failed statements with their text, and a statement may hold a key:
        # errors reach the caller as exceptions instead.
        session.sparkContext.setLogLevel("FATAL")
        _application, _application_master, _application_dir = session, master, folder
        return session


def stop() -> None:
    """Stop the process's Spark application, if any (the next engine starts a new one)."""
    with _lock:
        _stop_locked()


def _stop_locked() -> None:
    global _application, _application_master, _application_dir
    if _application is not None:
        _application.stop()
    if _application_dir is not None:
        shutil.rmtree(_application_dir, ignore_errors=True)
    _application = _application_master = _application_dir = None


atexit.register(stop)

# Spark type names -> the names DuckDB gives the same logical types, so that
# callers of ``columns()`` see one vocabulary.
_TYPE_NAMES = {
    "string": "VARCHAR",
    "tinyint": "TINYINT",
    "smallint": "SMALLINT",
    "int": "INTEGER",
    "bigint": "BIGINT",
    "float": "FLOAT",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp_ntz": "TIMESTAMP",
    "timestamp": "TIMESTAMP WITH TIME ZONE",
    "binary": "BLOB",
    "void": '"NULL"',
}


# Quoted text (literals with either escaping, quoted names), kept as it is.
_QUOTED = re.compile(r"'(?:[^'\\]|\\.|'')*'|\"(?:[^\"]|\"\")*\"|`(?:[^`]|``)*`", re.DOTALL)
_VARCHAR = re.compile(r"\bVARCHAR\b(?!\s*\()", re.IGNORECASE)


def portable_types(sql: str) -> str:
    """``sql`` with the portable type name VARCHAR spelled as Spark wants it (STRING).

    Spark 4 only accepts VARCHAR with a length; DuckDB and the shared code say VARCHAR.
    """
    out, position = [], 0
    for quoted in _QUOTED.finditer(sql):
        out.append(_VARCHAR.sub("STRING", sql[position : quoted.start()]))
        out.append(quoted.group())
        position = quoted.end()
    out.append(_VARCHAR.sub("STRING", sql[position:]))
    return "".join(out)


class SparkQueryError(RuntimeError):
    """A statement Spark refused or failed to run, its message stripped of secrets."""


# Spark's messages quote the failing SQL, where key material is inlined as hex
# (HMAC pads): long hex runs never leave the engine.
_HEX_RUN = re.compile(r"[0-9A-Fa-f]{32,}")


@contextmanager
def _redacted_errors() -> Iterator[None]:
    from pyspark.errors import PySparkException

    try:
        yield
    except PySparkException as error:
        raise SparkQueryError(_HEX_RUN.sub("[…]", str(error))) from None


def _type_name(simple: str) -> str:
    if simple.startswith("decimal"):
        return simple.upper()
    return _TYPE_NAMES.get(simple, simple.upper())


class SparkEngine(Engine):
    name = "spark"
    dialect = SparkDialect()

    def __init__(
        self,
        *,
        master: str | None = None,
        driver_memory: str | None = None,
        config: dict[str, str] | None = None,
        workdir: Path | None = None,
    ) -> None:
        super().__init__(workdir=workdir)
        self._spark = application(master, driver_memory=driver_memory, config=config).newSession()
        self._views: list[str] = []

    @property
    def master(self) -> str:
        return str(self._spark.sparkContext.master)

    def _sql(self, sql: str) -> Any:
        return self._spark.sql(portable_types(sql))

    def execute(self, sql: str) -> None:
        with _redacted_errors():
            self._sql(sql).collect()

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        with _redacted_errors():
            return [tuple(row) for row in self._sql(sql).collect()]

    def columns(self, sql: str) -> list[tuple[str, str]]:
        with _redacted_errors():
            schema = self._sql(f"SELECT * FROM ({sql}) LIMIT 0").schema
        return [(field.name, _type_name(field.dataType.simpleString())) for field in schema]

    def register_arrow(self, name: str, table: Any) -> None:
        self._spark.createDataFrame(table).createOrReplaceTempView(name)
        self._views.append(name)

    def unregister(self, name: str) -> None:
        self._spark.catalog.dropTempView(name)
        if name in self._views:
            self._views.remove(name)

    def native(self) -> Any:
        return self._spark

    def relation(self, source: Source) -> str:
        if source.format != "csv":
            return super().relation(source)
        if len(source.paths) != 1:
            raise ValueError("a CSV source is one file")
        view = f"hdh_csv_{uuid.uuid4().hex}"
        self.execute(
            self.dialect.csv_view(
                view,
                source.paths[0],
                delimiter=source.delimiter,
                columns=source.columns,
                encoding=source.encoding,
                max_line_bytes=source.max_line_bytes,
            )
        )
        self._views.append(view)
        return self.quote(view)

    def _copy_to_parquet(self, sql: str, path: Path) -> None:
        # Spark writes a folder of part files in parallel; they become one file.
        parts = path.with_name(path.name + ".parts")
        try:
            with _redacted_errors():
                self._sql(sql).write.mode("errorifexists").parquet(str(parts))
            files = sorted(parts.glob("part-*.parquet"))
            if len(files) == 1:
                os.replace(files[0], path)
            else:
                _concatenate(files, path)
        finally:
            shutil.rmtree(parts, ignore_errors=True)

    def _rows_written(self, path: Path) -> int:
        # Spark skips files whose name starts with a dot, as the temporary's does.
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)

    def _close(self) -> None:
        for view in self._views:
            self._spark.catalog.dropTempView(view)
        self._views.clear()


def _concatenate(files: list[Path], target: Path) -> None:
    """Part files, in order, as one Parquet file: one row group at a time."""
    import pyarrow.parquet as pq

    if not files:
        raise RuntimeError("Spark wrote no Parquet file")
    writer = None
    try:
        for file in files:
            reader = pq.ParquetFile(file)
            if writer is None:
                writer = pq.ParquetWriter(target, reader.schema_arrow, compression="zstd")
            for group in range(reader.num_row_groups):
                writer.write_table(reader.read_row_group(group))
    finally:
        if writer is not None:
            writer.close()
