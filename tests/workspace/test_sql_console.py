"""The workspace SQL console engine on real DuckDB and real Parquet files."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from hdh.workspace import sql
from hdh.workspace.sql import ConsoleLimits, QueryFailed, QueryRefused, dataset_tables, run_query


def write_dataset(folder: Path) -> dict[str, Path]:
    """A small project dataset: PATIENTS and SEJOURS, one Parquet file each, plus a manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as connection:
        connection.execute(
            f"""COPY (
                SELECT range AS id,
                       CASE WHEN range % 2 = 0 THEN 'F' ELSE 'M' END AS sexe,
                       DATE '1950-01-01' + CAST(range * 30 AS INTEGER) AS naissance,
                       CAST(50 + range % 40 AS DECIMAL(5, 1)) AS poids
                FROM range(200)
            ) TO '{folder / "PATIENTS.parquet"}' (FORMAT parquet)"""
        )
        connection.execute(
            f"""COPY (
                SELECT range AS sejour, range % 200 AS patient_id,
                       TIMESTAMP '2023-01-01 08:00:00' + to_hours(range) AS entree,
                       CAST(range * 1.5 AS DOUBLE) AS cout
                FROM range(1000)
            ) TO '{folder / "SEJOURS.parquet"}' (FORMAT parquet)"""
        )
    (folder / "manifest.json").write_text("{}", encoding="utf-8")
    return dataset_tables(folder)


@pytest.fixture
def tables(tmp_path: Path) -> dict[str, Path]:
    return write_dataset(tmp_path / "dataset")


def test_aggregate_and_join_across_two_tables(tables: dict[str, Path]) -> None:
    result = run_query(
        "SELECT p.sexe, count(*) AS sejours, sum(s.cout) AS total "
        "FROM sejours s JOIN patients p ON p.id = s.patient_id "
        "GROUP BY p.sexe ORDER BY p.sexe",
        tables=tables,
    )

    assert result.columns == ["sexe", "sejours", "total"]
    assert result.types == ["VARCHAR", "BIGINT", "DOUBLE"]
    assert [row[:2] for row in result.rows] == [("F", 500), ("M", 500)]
    assert sum(row[2] for row in result.rows) == pytest.approx(sum(i * 1.5 for i in range(1000)))
    assert result.truncated is False
    assert result.duration_ms >= 0


def test_table_names_are_case_insensitive(tables: dict[str, Path]) -> None:
    lower = run_query("select count(*) from patients", tables=tables)
    quoted = run_query('select count(*) from "PATIENTS"', tables=tables)

    assert lower.rows == quoted.rows == [(200,)]


def test_rows_are_capped_and_truncation_reported(tables: dict[str, Path]) -> None:
    capped = run_query("SELECT * FROM sejours", tables=tables, limits=ConsoleLimits(max_rows=25))
    exact = run_query(
        "SELECT * FROM sejours LIMIT 25", tables=tables, limits=ConsoleLimits(max_rows=25)
    )

    assert len(capped.rows) == 25
    assert capped.truncated is True
    assert len(exact.rows) == 25
    assert exact.truncated is False


def test_a_huge_result_is_not_loaded_whole(tables: dict[str, Path]) -> None:
    # A billion rows under a 50 MB limit: only max_rows + 1 are ever fetched.
    result = run_query(
        "SELECT range, repeat('x', 200) FROM range(1000000000)",
        tables=tables,
        limits=ConsoleLimits(max_rows=10, memory="50MB"),
    )

    assert [row[0] for row in result.rows] == list(range(10))
    assert result.truncated is True


def test_values_become_json_friendly(tables: dict[str, Path]) -> None:
    result = run_query(
        "SELECT naissance, poids, TIMESTAMP '2024-02-29 13:45:00' AS ts, "
        "'\\xCA\\xFE'::BLOB AS b, [1, 2] AS l, {'k': DATE '2024-01-02'} AS st, "
        "'nan'::DOUBLE AS n, NULL AS z, 12345678901234567890::HUGEINT AS h, "
        "TIME '10:11:12' AS t, INTERVAL 3 DAY AS i, true AS ok "
        "FROM patients WHERE id = 1",
        tables=tables,
    )

    assert result.types[:4] == ["DATE", "DECIMAL(5,1)", "TIMESTAMP", "BLOB"]
    assert result.rows == [
        (
            "1950-01-31",
            "51.0",
            "2024-02-29T13:45:00",
            "\\xcafe",
            [1, 2],
            {"k": "2024-01-02"},
            "nan",
            None,
            12345678901234567890,
            "10:11:12",
            "3 days, 0:00:00",
            True,
        )
    ]


@pytest.mark.parametrize(
    "query",
    [
        "WITH f AS (SELECT * FROM patients WHERE sexe = 'F') SELECT count(*) FROM f",
        "VALUES (1, 'a'), (2, 'b')",
        "DESCRIBE patients",
        "SUMMARIZE sejours",
        "EXPLAIN SELECT * FROM patients",
        "explain analyze select count(*) from sejours",
        "FROM patients SELECT id LIMIT 3",
        "SELECT table_name FROM information_schema.tables ORDER BY 1",
        "SELECT * FROM range(3)",
        "select 1 -- a comment with ; attach 'x'",
        "/* ; ATTACH ':memory:' */ SELECT 1;",
    ],
)
def test_read_only_forms_are_allowed(tables: dict[str, Path], query: str) -> None:
    result = run_query(query, tables=tables)

    assert result.columns
    assert result.rows


def test_a_query_over_the_time_limit_is_interrupted(tables: dict[str, Path]) -> None:
    with pytest.raises(QueryRefused, match=r"a dépassé 0\.5 s") as refused:
        run_query(
            "SELECT sum(hash(a.range + b.range)) FROM range(1000000) a, range(1000000) b",
            tables=tables,
            limits=ConsoleLimits(seconds=0.5),
        )

    assert refused.value.kind == "timeout"


def test_a_query_over_the_memory_limit_is_refused(tables: dict[str, Path]) -> None:
    with pytest.raises(QueryRefused, match=r"mémoire autorisée \(20MB\)") as refused:
        run_query(
            "SELECT count(*) FROM (SELECT range % 5000000 AS k, count(*) FROM range(20000000) "
            "GROUP BY 1)",
            tables=tables,
            limits=ConsoleLimits(memory="20MB", max_temp_size="0B"),
        )

    assert refused.value.kind == "memory"


def test_a_wrong_query_is_a_query_failure(tables: dict[str, Path]) -> None:
    with pytest.raises(QueryFailed, match="Erreur dans la requête") as failed:
        run_query("SELECT nope FROM patients", tables=tables)

    assert failed.value.kind == "error"
    assert isinstance(failed.value, QueryRefused)


@pytest.mark.parametrize(
    ("query", "kind"), [("", "syntax"), ("   \n ", "syntax"), ("SELEC 1", "syntax")]
)
def test_empty_and_malformed_queries(tables: dict[str, Path], query: str, kind: str) -> None:
    with pytest.raises(QueryRefused) as refused:
        run_query(query, tables=tables)

    assert refused.value.kind == kind


def test_a_non_text_query_is_refused(tables: dict[str, Path]) -> None:
    with pytest.raises(QueryRefused, match="texte"):
        run_query(b"SELECT 1", tables=tables)  # type: ignore[arg-type]


def test_each_query_gets_a_private_spill_folder_removed_afterwards(
    tables: dict[str, Path], tmp_path: Path
) -> None:
    spill = tmp_path / "spill"

    run_query("SELECT count(*) FROM sejours", tables=tables, temp_directory=spill)
    with pytest.raises(QueryRefused):
        run_query("SELECT nope", tables=tables, temp_directory=spill)

    assert list(spill.iterdir()) == []


# --- dataset folders --------------------------------------------------------------------------


def test_dataset_tables_lists_plain_parquet_files_only(tmp_path: Path) -> None:
    folder = tmp_path / "dataset"
    write_dataset(folder)
    (folder / "notes.txt").write_text("x", encoding="utf-8")
    (folder / "bad name.parquet").write_bytes(b"")
    (folder / "1ABC.parquet").write_bytes(b"")
    (folder / "SUB.parquet").mkdir()

    tables = dataset_tables(folder)

    assert tables == {
        "PATIENTS": (folder / "PATIENTS.parquet").resolve(),
        "SEJOURS": (folder / "SEJOURS.parquet").resolve(),
    }


def test_dataset_tables_refuses_a_symlinked_table(tmp_path: Path) -> None:
    folder = tmp_path / "dataset"
    other = write_dataset(tmp_path / "other-project")
    folder.mkdir()
    os.symlink(other["PATIENTS"], folder / "PATIENTS.parquet")

    with pytest.raises(QueryRefused, match="lien symbolique"):
        dataset_tables(folder)


def test_dataset_tables_refuses_a_symlinked_folder(tmp_path: Path) -> None:
    write_dataset(tmp_path / "other-project")
    os.symlink(tmp_path / "other-project", tmp_path / "dataset")

    with pytest.raises(QueryRefused, match="lien symbolique"):
        dataset_tables(tmp_path / "dataset")


def test_dataset_tables_refuses_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(QueryRefused, match="introuvable"):
        dataset_tables(tmp_path / "absent")


def test_dataset_tables_refuses_names_differing_only_by_case(tmp_path: Path) -> None:
    tables = write_dataset(tmp_path / "dataset")
    (tmp_path / "dataset" / "patients.parquet").write_bytes(tables["PATIENTS"].read_bytes())

    with pytest.raises(QueryRefused, match="casse"):
        dataset_tables(tmp_path / "dataset")


@pytest.mark.parametrize(
    "bad",
    [
        {'A"; DROP': Path("/nonexistent/x.parquet")},
        {"A": Path("relative.parquet")},
        {"A": Path("/nonexistent/A.parquet")},
    ],
)
def test_run_query_refuses_a_bad_tables_mapping(bad: dict[str, Path]) -> None:
    with pytest.raises(QueryRefused) as refused:
        run_query("SELECT 1", tables=bad)

    assert refused.value.kind == "dataset"


def test_to_json_value_handles_nested_and_odd_values() -> None:
    assert sql.to_json_value(float("inf")) == "inf"
    assert sql.to_json_value(memoryview(b"\x01")) == "\\x01"
    assert sql.to_json_value((1, {"a": [None]})) == [1, {"a": [None]}]
    assert sql.to_json_value(object.__new__(object)).startswith("<object")


def test_a_corrupt_table_file_is_an_engine_refusal(tmp_path: Path) -> None:
    folder = tmp_path / "dataset"
    folder.mkdir()
    (folder / "BROKEN.parquet").write_bytes(b"not parquet")

    with pytest.raises(QueryRefused, match="n'a pas pu démarrer") as refused:
        run_query("SELECT 1", tables=dataset_tables(folder))

    assert refused.value.kind == "engine"
    assert str(folder) not in str(refused.value)


def test_invalid_limits_are_an_engine_refusal(tables: dict[str, Path]) -> None:
    with pytest.raises(QueryRefused) as refused:
        run_query("SELECT 1", tables=tables, limits=ConsoleLimits(memory="'; ATTACH 'x"))

    assert refused.value.kind == "engine"
