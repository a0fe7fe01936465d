"""One plan, the same dataset: DuckDB, Spark in local mode, and a Spark standalone
cluster (a master and a worker started here on the loopback interface)."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hdh.engines import get_engine
from hdh.preparation import plan as plans
from hdh.preparation.runner import Runner

KEY = bytes(range(32))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _master_state(ui_port: int) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/json/", timeout=2) as page:
            state: dict[str, Any] = json.load(page)
            return state
    except OSError:
        return {}


def _wait(condition: Any, what: str, processes: list[subprocess.Popen[bytes]], logs: Path) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if condition():
            return
        if any(p.poll() is not None for p in processes):
            break
        time.sleep(0.5)
    text = "\n".join(f.read_text(errors="replace")[-2000:] for f in sorted(logs.glob("*.log")))
    raise RuntimeError(f"the Spark {what} did not start:\n{text}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A standalone master and one worker (2 cores) on 127.0.0.1; yields the master URL."""
    pytest.importorskip("pyspark")
    import pyspark

    from hdh.engines import spark

    home = Path(pyspark.__file__).parent
    work = tmp_path_factory.mktemp("spark-cluster")
    logs = work / "logs"
    for sub in ("logs", "worker", "local"):
        (work / sub).mkdir()
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "SPARK_LOG_DIR": str(logs),
        "SPARK_WORKER_DIR": str(work / "worker"),
        "SPARK_LOCAL_DIRS": str(work / "local"),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_NO_DAEMONIZE": "1",
        "PYSPARK_PYTHON": sys.executable,
    }
    spark_class = str(home / "bin" / "spark-class")
    port, ui = free_port(), free_port()
    url = f"spark://127.0.0.1:{port}"
    processes: list[subprocess.Popen[bytes]] = []

    def start(name: str, *args: str) -> None:
        with (logs / f"{name}.log").open("wb") as log:
            processes.append(
                subprocess.Popen(
                    [spark_class, *args],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )

    try:
        start("master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
              "--port", str(port), "--webui-port", str(ui))  # fmt: skip
        _wait(lambda: _master_state(ui).get("status") == "ALIVE", "master", processes, logs)
        start("worker", "org.apache.spark.deploy.worker.Worker", url, "--host", "127.0.0.1",
              "--port", str(free_port()), "--webui-port", str(free_port()),
              "--cores", "2", "--memory", "2g", "--work-dir", str(work / "worker"))  # fmt: skip
        _wait(lambda: _master_state(ui).get("aliveworkers") == 1, "worker", processes, logs)
        yield url
    finally:
        # The application on this cluster ends first; the next engine starts a local one.
        spark.stop()
        for process in reversed(processes):
            _stop(process)


CLUSTER_CONFIG = {"spark.executor.memory": "1g", "spark.cores.max": "2"}


@pytest.mark.slow
def test_the_engine_writes_and_reads_parquet_on_a_standalone_cluster(cluster, tmp_path):
    with get_engine("spark", master=cluster, config=CLUSTER_CONFIG) as engine:
        assert engine.master == cluster
        target = tmp_path / "out" / "data.parquet"
        written = engine.write_parquet(
            "SELECT n, CAST(n % 7 AS STRING) AS label FROM range(100000) AS t(n)", target
        )
        assert written.rows == 100_000
        assert [p.name for p in target.parent.iterdir()] == ["data.parquet"]
        relation = engine.dialect.read_parquet([target])
        assert engine.fetch(f"SELECT count(DISTINCT label), sum(n) FROM {relation}") == [
            (7, 4_999_950_000)
        ]
        # The work ran in an executor of the worker, not in the driver.
        executors = engine._spark.sparkContext._jsc.sc().getExecutorMemoryStatus().size()
        assert executors >= 2


def _prepare(engine_name: str, plan: plans.Plan, objectors: set[str], staging: Path, **options):
    with get_engine(engine_name, **options) as engine:
        return Runner(engine, plan, key=KEY, objectors=objectors, staging=staging).run()


def _contents(folder: Path) -> dict[str, list[tuple[Any, ...]]]:
    with get_engine("duckdb") as reader:
        return {
            path.stem: sorted(
                reader.fetch(f"SELECT * FROM {reader.dialect.read_parquet([path])}"),
                key=repr,
            )
            for path in sorted(folder.glob("*.parquet"))
        }


@pytest.mark.slow
@pytest.mark.parametrize("where", ["local", "cluster"])
def test_a_dataset_prepared_on_spark_is_the_dataset_duckdb_prepares(
    world, tmp_path: Path, request: pytest.FixtureRequest, where: str
):
    import hmac
    from hashlib import sha256

    plan = plans.compile_plan(world.permit)
    plan.period_start, plan.period_end = "2023-02-01", "2023-11-30"
    persons = sorted(i.p1 for i in world.identities)
    objectors = set(random.Random(5).sample(persons, len(persons) // 10))
    options: dict[str, Any] = {}
    if where == "cluster":
        options = {"master": request.getfixturevalue("cluster"), "config": CLUSTER_CONFIG}
    duckdb_outcome = _prepare("duckdb", plan, objectors, tmp_path / "duckdb")
    spark_outcome = _prepare("spark", plan, objectors, tmp_path / "spark", **options)

    assert spark_outcome.persons == duckdb_outcome.persons > 0
    assert [(t.table, t.rows, t.columns) for t in spark_outcome.tables] == [
        (t.table, t.rows, t.columns) for t in duckdb_outcome.tables
    ]
    duckdb_rows, spark_rows = _contents(tmp_path / "duckdb"), _contents(tmp_path / "spark")
    assert spark_rows == duckdb_rows
    assert sum(len(rows) for rows in spark_rows.values()) > 0
    # Nobody in the objection register is in the dataset, under any pseudonym column.
    hidden = {hmac.new(KEY, p.encode(), sha256).hexdigest() for p in objectors}
    seen = {value for rows in spark_rows.values() for row in rows for value in row}
    assert not hidden & seen
    assert not objectors & seen
