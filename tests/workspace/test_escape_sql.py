"""Hostile SQL against the workspace console: each attempt is refused with a clear message.

Two layers are proved separately: ``run_query`` (statement check + locked
connection) refuses every attempt with a French message, and the locked
connection alone, with no statement check, still contains file, network,
extension and configuration access.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from hdh.workspace import sql
from hdh.workspace.sql import ConsoleLimits, QueryRefused, dataset_tables, run_query

CANARY = "CANARY-P2-7f3a"
# Escapes aim outside the project on purpose; nothing may appear there.
OUTSIDE = Path("/tmp")  # noqa: S108


def fullwidth(text: str) -> str:
    """ASCII letters as their full-width Unicode look-alikes (U+FF21…)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _project(folder: Path, value: str) -> dict[str, Path]:
    folder.mkdir(parents=True)
    with duckdb.connect() as connection:
        connection.execute(
            f"COPY (SELECT range AS id, '{value}' AS secret FROM range(10)) "
            f"TO '{folder / 'PATIENTS.parquet'}' (FORMAT parquet)"
        )
    return dataset_tables(folder)


@pytest.fixture
def projects(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Project P1's tables; P2 (holding the canary) is its sibling, and the working
    directory is P1's folder, so ``../P2/PATIENTS.parquet`` really points at P2."""
    own = _project(tmp_path / "projects" / "P1", "p1")
    _project(tmp_path / "projects" / "P2", CANARY)
    monkeypatch.chdir(tmp_path / "projects" / "P1")
    return own


def other_project(tmp_path: Path) -> Path:
    return (tmp_path / "projects" / "P2" / "PATIENTS.parquet").resolve()


HOSTILE: list[tuple[str, str, str]] = [
    # (query, kind, fragment of the message)
    ("SELECT * FROM read_csv('/etc/passwd', sep=':')", "function", "read_csv"),
    ("select * from READ_CSV_AUTO('/etc/passwd')", "function", "read_csv_auto"),
    ("SELECT * FROM \"Read_Text\"('/etc/passwd')", "function", "read_text"),
    ("SELECT content FROM read_blob('/etc/passwd')", "function", "read_blob"),
    ("SELECT * FROM read_json_auto('/etc/hostname')", "function", "read_json_auto"),
    ("SELECT * FROM main.read_csv(['/etc/passwd'])", "function", "read_csv"),
    ("SELECT * FROM '/etc/passwd'", "path", "/etc/passwd"),
    ('SELECT * FROM "/etc/passwd"', "path", "/etc/passwd"),
    ("FROM '~/.bashrc'", "path", "~/.bashrc"),
    ("DESCRIBE '/etc/passwd'", "path", "/etc/passwd"),
    ("SUMMARIZE '/etc/passwd'", "path", "/etc/passwd"),
    ("SHOW '/etc/passwd'", "path", "/etc/passwd"),
    ("SELECT * FROM 'secrets.csv'", "path", "secrets.csv"),
    ("WITH x AS (SELECT * FROM read_text('/etc/passwd')) SELECT * FROM x", "function", "read_text"),
    ("SELECT (SELECT count(*) FROM read_csv('/etc/passwd')) AS n", "function", "read_csv"),
    ("SELECT * FROM patients WHERE id IN (SELECT 1 FROM '/etc/passwd')", "path", "/etc/passwd"),
    ("SELECT * FROM query('SELECT * FROM read_csv(''/etc/passwd'')')", "function", "query"),
    ("SELECT * FROM query_table('/etc/passwd')", "function", "query_table"),
    ("SELECT * FROM sniff_csv('/etc/passwd')", "function", "sniff_csv"),
    ("SELECT * FROM glob('/*')", "function", "glob"),
    ("SELECT * FROM parquet_metadata('../P2/PATIENTS.parquet')", "function", "parquet_metadata"),
    ("SELECT * FROM parquet_schema('/etc/passwd')", "function", "parquet_schema"),
    ("SELECT * FROM read_parquet('../P2/PATIENTS.parquet')", "function", "read_parquet"),
    ("SELECT * FROM '../P2/PATIENTS.parquet'", "path", "../P2"),
    ("SELECT * FROM read_csv('http://example.org/x.csv')", "function", "read_csv"),
    ("SELECT * FROM 'https://example.org/x.parquet'", "path", "https://"),
    ("SELECT * FROM 's3://bucket/key.parquet'", "path", "s3://"),
    ("SELECT getenv('HOME')", "function", "getenv"),
    ("SELECT current_setting('temp_directory')", "function", "current_setting"),
    ("SELECT * FROM duckdb_settings()", "function", "duckdb_settings"),
    ("SELECT * FROM duckdb_extensions()", "function", "duckdb_extensions"),
    ("SELECT * FROM which_secret('s3://x', 's3')", "function", "which_secret"),
    ("SELECT * FROM arrow_scan(1, 2, 3)", "function", "arrow_scan"),
    ("SELECT * FROM json_execute_serialized_sql('{}')", "function", "json_execute_serialized_sql"),
    ("ATTACH ':memory:' AS m", "statement", "ATTACH"),
    ("ATTACH '/tmp/other.duckdb' AS o", "statement", "ATTACH"),
    ("DETACH memory", "statement", "DETACH"),
    ("COPY patients TO '/tmp/x.csv'", "statement", "COPY"),
    ("COPY (SELECT 1) TO '/tmp/x'", "statement", "COPY"),
    ("INSTALL httpfs", "statement", "INSTALL"),
    ("LOAD httpfs", "statement", "LOAD"),
    ("FORCE INSTALL httpfs FROM community", "statement", "FORCE"),
    ("UPDATE EXTENSIONS", "statement", "UPDATE"),
    ("SET enable_external_access = true", "statement", "SET"),
    ("SET memory_limit = '100GB'", "statement", "SET"),
    ("RESET memory_limit", "statement", "RESET"),
    ("SET VARIABLE x = 1", "statement", "SET"),
    ("PRAGMA enable_profiling", "statement", "PRAGMA"),
    ("PRAGMA version", "statement", "PRAGMA"),
    ("EXPORT DATABASE '/tmp/export'", "statement", "EXPORT DATABASE"),
    ("IMPORT DATABASE '/tmp/export'", "statement", "IMPORT DATABASE"),
    ("CREATE TABLE t AS SELECT * FROM patients", "statement", "CREATE TABLE"),
    ("CREATE MACRO m(x) AS x", "statement", "CREATE MACRO"),
    ("CREATE SECRET s (TYPE s3, KEY_ID 'k', SECRET 's')", "statement", "CREATE SECRET"),
    ("INSERT INTO patients VALUES (1, 'x')", "statement", "INSERT"),
    ("UPDATE patients SET secret = 'x'", "statement", "UPDATE"),
    ("DELETE FROM patients", "statement", "DELETE"),
    ("DROP VIEW patients", "statement", "DROP"),
    ("ALTER VIEW patients RENAME TO p", "statement", "ALTER"),
    ("CALL pragma_version()", "statement", "CALL"),
    ("USE memory", "statement", "USE"),
    ("CHECKPOINT", "statement", "CHECKPOINT"),
    ("VACUUM", "statement", "VACUUM"),
    ("BEGIN TRANSACTION", "statement", "BEGIN"),
    ("PREPARE p AS SELECT 1", "statement", "PREPARE"),
    ("EXPLAIN COPY patients TO '/tmp/x'", "statement", "COPY"),
    ("EXPLAIN SELECT * FROM read_csv('/etc/passwd')", "function", "read_csv"),
    ("PIVOT patients ON secret USING count(*)", "statement", "PIVOT"),
    ("SELECT 1; ATTACH ':memory:' AS m", "statement", "Une seule instruction"),
    ("SELECT 1 /* ; */ ; ATTACH ':memory:' AS m", "statement", "Une seule instruction"),
    ("SELECT 1 --\n; COPY patients TO '/tmp/x.csv'", "statement", "Une seule instruction"),
    ("/* hidden */ ATTACH /* ; */ ':memory:' AS m", "statement", "ATTACH"),
    ("SELECT 1\x00; ATTACH ':memory:'", "characters", "U+0000"),
    ("SELECT '\u202eevil'", "characters", "U+202E"),
    ("SEL\u200bECT 1", "characters", "U+200B"),
    ("SELECT 1\ufeff", "characters", "U+FEFF"),
    ("SELECT 1 \x1b[2J", "characters", "U+001B"),
    (fullwidth("SELECT") + " * FROM read_csv('/etc/passwd')", "syntax", "Erreur de syntaxe"),
    ("SELECT 'x' || " * 1 + "'y'" + " " * 1_000_000, "size", "trop longue"),
]


@pytest.mark.parametrize(("query", "kind", "fragment"), HOSTILE, ids=[h[0][:40] for h in HOSTILE])
def test_hostile_query_is_refused_with_a_clear_message(
    projects: dict[str, Path], query: str, kind: str, fragment: str
) -> None:
    with pytest.raises(QueryRefused) as refused:
        run_query(query, tables=projects)

    assert refused.value.kind == kind
    assert fragment in str(refusal_text := str(refused.value))
    assert CANARY not in refusal_text
    assert not (OUTSIDE / "x.csv").exists()


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * FROM re\u0430d_csv('/etc/passwd')",  # Cyrillic small a
        "SELECT * FROM " + fullwidth("read_csv") + "('/etc/passwd')",
    ],
)
def test_look_alike_table_functions_are_outside_the_allow_list(
    projects: dict[str, Path], query: str
) -> None:
    with pytest.raises(QueryRefused, match="Fonction de table refusée") as refused:
        run_query(query, tables=projects)

    assert refused.value.kind == "function"


def test_deeply_nested_query_does_not_crash(projects: dict[str, Path]) -> None:
    query = "SELECT x FROM " + "(" * 2000 + "SELECT 1 AS x" + ")" * 2000

    assert run_query(query, tables=projects).rows == [(1,)]


def test_own_tables_stay_readable(projects: dict[str, Path]) -> None:
    assert run_query("SELECT DISTINCT secret FROM patients", tables=projects).rows == [("p1",)]


def test_a_python_object_of_the_caller_is_not_a_table(projects: dict[str, Path]) -> None:
    canary_rows = pa.table({"secret": [CANARY]})  # noqa: F841 - what a replacement scan would find

    with pytest.raises(QueryRefused) as refused:
        run_query("SELECT * FROM canary_rows", tables=projects)

    assert CANARY not in str(refused.value)


# --- the locked connection alone, without the statement check ---------------------------------


@pytest.fixture
def bare(projects: dict[str, Path], tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with sql.locked_connection(
        projects,
        memory="256MB",
        threads=1,
        max_temp_size="64MB",
        temp_directory=tmp_path / "spill",
    ) as connection:
        yield connection


def test_locked_connection_reads_its_own_tables(bare: duckdb.DuckDBPyConnection) -> None:
    assert bare.execute("SELECT count(*) FROM patients").fetchall() == [(10,)]
    settings = dict(
        bare.execute(
            "SELECT name, value FROM duckdb_settings() WHERE name IN ("
            "'enable_external_access', 'lock_configuration', 'autoload_known_extensions', "
            "'autoinstall_known_extensions', 'python_enable_replacements', 'threads')"
        ).fetchall()
    )
    assert settings == {
        "enable_external_access": "false",
        "lock_configuration": "true",
        "autoload_known_extensions": "false",
        "autoinstall_known_extensions": "false",
        "python_enable_replacements": "false",
        "threads": "1",
    }


ESCAPES_WITHOUT_CHECK = [
    "SELECT * FROM read_csv('/etc/passwd', sep=':')",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM read_blob('/etc/hostname')",
    "SELECT * FROM '/etc/passwd'",
    "SELECT * FROM sniff_csv('/etc/passwd')",
    "SELECT * FROM glob('/*')",
    "SELECT * FROM glob('../*/*.parquet')",
    "SELECT * FROM read_parquet('../P2/PATIENTS.parquet')",
    "SELECT * FROM read_csv('http://127.0.0.1:9/x.csv')",
    "SELECT * FROM 's3://bucket/key.parquet'",
    "SELECT * FROM query('SELECT * FROM read_text(''/etc/passwd'')')",
    "ATTACH '/tmp/hdh-escape.duckdb' AS other",
    "COPY patients TO '/tmp/hdh-escape.csv'",
    "EXPORT DATABASE '/tmp/hdh-escape-export'",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET enable_external_access = true",
    "SET allowed_directories = ['/']",
    "SET allowed_paths = ['/etc/passwd']",
    "SET memory_limit = '100GB'",
    "RESET memory_limit",
    "SET threads = 64",
    "SET temp_directory = '/tmp'",
    "SET autoload_known_extensions = true",
    "PRAGMA enable_profiling",
    "SELECT getenv('HOME')",
    "SELECT * FROM canary_rows",
]


@pytest.mark.parametrize("statement", ESCAPES_WITHOUT_CHECK)
def test_locked_connection_alone_contains(bare: duckdb.DuckDBPyConnection, statement: str) -> None:
    canary_rows = pa.table({"secret": [CANARY]})  # noqa: F841 - what a replacement scan would find

    with pytest.raises(duckdb.Error):
        bare.execute(statement).fetchall()

    assert not (OUTSIDE / "hdh-escape.csv").exists()
    assert not (OUTSIDE / "hdh-escape.duckdb").exists()
    assert not (OUTSIDE / "hdh-escape-export").exists()


def test_locked_connection_alone_refuses_another_projects_file_by_absolute_path(
    bare: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    target = other_project(tmp_path)
    assert target.is_file()

    for statement in (
        f"SELECT * FROM read_parquet('{target}')",
        f"SELECT * FROM '{target}'",
        f"SELECT * FROM parquet_metadata('{target}')",
        f"SELECT * FROM read_blob('{target}')",
        f"SELECT * FROM read_parquet('{projects_dir(tmp_path)}/P1/../P2/PATIENTS.parquet')",
    ):
        with pytest.raises(duckdb.PermissionException):
            bare.execute(statement).fetchall()


def test_locked_connection_spill_folder_does_not_open_its_parent(
    bare: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    # DuckDB allows its temp directory; a "../" from it must not reach P2.
    spill = next((tmp_path / "spill").iterdir())
    escape = f"{spill}/../../projects/P2/PATIENTS.parquet"
    assert Path(escape).resolve() == other_project(tmp_path)

    with pytest.raises(duckdb.PermissionException):
        bare.execute(f"SELECT * FROM read_parquet('{escape}')").fetchall()


def projects_dir(tmp_path: Path) -> Path:
    return (tmp_path / "projects").resolve()


def test_run_query_contains_the_same_escape_on_both_layers(
    projects: dict[str, Path], tmp_path: Path
) -> None:
    target = other_project(tmp_path)

    with pytest.raises(QueryRefused) as refused:
        run_query(
            f"SELECT * FROM read_parquet('{target}')",
            tables=projects,
            limits=ConsoleLimits(max_rows=5),
        )

    assert refused.value.kind == "function"
