"""The Engine protocol: sources, atomic Parquet writes, profiles — on every engine."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from hdh.engines import Engine, Source, available, get_engine, register
from hdh.engines.files import atomic_path
from hdh.engines.types import Column
from tests.engines.helpers import numbers


def csv_file(tmp_path: Path, text: str) -> Source:
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    header = text.split("\n", 1)[0].split(";")
    return Source((path,), "csv", delimiter=";", columns=tuple(header))


def test_csv_values_are_read_as_text_in_order(engine: Engine, tmp_path: Path):
    source = csv_file(tmp_path, "A;B\n1;x\n02;\n3;z\n")
    rows = engine.fetch(f"SELECT A, B FROM {engine.relation(source)}")
    assert rows == [("1", "x"), ("02", None), ("3", "z")]


def test_a_ragged_csv_line_is_an_error(engine: Engine, tmp_path: Path):
    source = csv_file(tmp_path, "A;B\n1;x\n2;y;extra\n")
    # DuckDB names the line; Spark refuses the whole file as malformed.
    with pytest.raises(Exception, match=r"Line: 3|MALFORMED_RECORD"):
        engine.fetch(f"SELECT * FROM {engine.relation(source)}")


def test_parquet_written_atomically_with_its_checksum(engine: Engine, tmp_path: Path):
    target = tmp_path / "out" / "data.parquet"
    written = engine.write_parquet(f"SELECT n FROM {numbers(1000)}", target)
    assert written.rows == 1000
    assert written.path == target
    assert len(written.sha256) == 64
    parquet = engine.dialect.read_parquet([target], row_numbers=True)
    assert engine.fetch(
        f"SELECT max(n), max({engine.dialect.row_number_column()}) FROM {parquet}"
    ) == [(999, 999)]
    assert [p.name for p in target.parent.iterdir()] == ["data.parquet"]
    with pytest.raises(FileExistsError):
        engine.write_parquet("SELECT 1 AS n", target)


def test_a_failed_write_leaves_nothing(engine: Engine, tmp_path: Path):
    target = tmp_path / "out" / "data.parquet"
    with pytest.raises(Exception, match="no_such_table"):
        engine.write_parquet("SELECT * FROM no_such_table", target)
    assert list(target.parent.iterdir()) == []


def test_stata_is_streamed_into_parquet(engine: Engine, tmp_path: Path):
    path = tmp_path / "t.dta"
    pyreadstat.write_dta(pd.DataFrame({"A": [1.0, 2.0, 3.0], "B": ["x", "y", "z"]}), str(path))
    relation = engine.relation(Source((path,), "stata", row_numbers=True))
    assert engine.fetch(f"SELECT sum(A), string_agg(B, '') FROM {relation}") == [(6.0, "xyz")]


def test_profile_counts_ranges_and_distributions(engine: Engine):
    relation = (
        "(SELECT CASE WHEN n < 90 THEN n % 3 END AS code, "
        f"CAST(n AS DOUBLE) AS amount, 'k' || (n % 2) AS label FROM {numbers(100)})"
    )
    code, amount, label = engine.profile(
        relation,
        [Column("code", "integer"), Column("amount", "number"), Column("label", "string")],
        bins=4,
    )
    assert (code.rows, code.non_null, code.distinct) == (100, 90, 3)
    assert sum(c for _, _, c in code.histogram) == 90
    assert (amount.minimum, amount.maximum) == ("0.0", "99.0")
    assert [c for _, _, c in amount.histogram] == [25, 25, 25, 25]
    assert label.top == [("k0", 50), ("k1", 50)]


def test_rare_extremes_are_left_out_on_request(engine: Engine):
    relation = f"(SELECT CASE WHEN n = 0 THEN 1000 ELSE n % 5 END AS v FROM {numbers(100)})"
    (profile,) = engine.profile(relation, [Column("v", "integer")], min_frequency=11)
    assert (profile.minimum, profile.maximum) == ("0", "4")


def test_dates_without_a_day_are_stored_as_text():
    assert Column("BEN_NAI_MOI", "date", "%m").storage == "string"
    assert Column("ENT_DAT", "date", "%d%m%Y").sql_type == "DATE"


def test_an_unknown_engine_is_refused_and_a_new_one_can_be_registered():
    with pytest.raises(ValueError, match="unknown engine"):
        get_engine("oracle")
    register("duckdb-copy", "hdh.engines.duckdb:DuckDBEngine")
    try:
        with get_engine("duckdb-copy") as engine:
            assert engine.scalar("SELECT 42") == 42
    finally:
        from hdh.engines import registry

        registry._factories.pop("duckdb-copy")
    assert "duckdb" in available()


def test_importing_the_engines_loads_no_engine_library():
    code = "import sys, hdh.engines; print('duckdb' in sys.modules, 'pyarrow' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", "False"]


def test_atomic_path_removes_the_temporary_on_failure(tmp_path: Path):
    target = tmp_path / "folder"

    def interrupted() -> None:
        with atomic_path(target) as temporary:
            temporary.mkdir()
            (temporary / "part").write_text("x")
            raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        interrupted()
    assert list(tmp_path.iterdir()) == []
