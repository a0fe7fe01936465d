"""SQL batch jobs: scripts of reads and CREATE … AS SELECT whose results become output files."""

from __future__ import annotations

import csv
import os
import resource
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from hdh.workspace.sql import QueryFailed, QueryRefused, dataset_tables
from hdh.workspace.sqljob import BatchLimits, run_script

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    with duckdb.connect() as connection:
        connection.execute(
            "COPY (SELECT range AS id, CASE WHEN range % 2 = 0 THEN 'F' ELSE 'M' END AS sexe, "
            "DATE '1960-01-01' + CAST(range AS INTEGER) AS naissance FROM range(100)) "
            f"TO '{folder / 'PATIENTS.parquet'}' (FORMAT parquet)"
        )
        connection.execute(
            "COPY (SELECT range AS sejour, range % 100 AS patient_id, range * 2 AS duree "
            f"FROM range(300)) TO '{folder / 'SEJOURS.parquet'}' (FORMAT parquet)"
        )
    (folder / "manifest.json").write_text("{}", encoding="utf-8")
    return folder


@pytest.fixture
def outputs(tmp_path: Path) -> Path:
    folder = tmp_path / "outputs"
    folder.mkdir()
    return folder


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


SCRIPT = """\
-- Effectifs par sexe
SELECT sexe, count(*) AS n FROM patients GROUP BY sexe ORDER BY sexe;

CREATE TEMP TABLE longs AS SELECT * FROM sejours WHERE duree > 500;

-- output: sejours-longs.csv
SELECT p.sexe, count(*) AS n
FROM longs l JOIN patients p ON p.id = l.patient_id
GROUP BY p.sexe ORDER BY p.sexe;
"""


def test_two_reads_and_a_named_output_write_two_csv_files(data: Path, outputs: Path) -> None:
    lines: list[str] = []

    files = run_script(SCRIPT, tables=dataset_tables(data), outputs=outputs, log=lines.append)

    assert files == [outputs / "result-1.csv", outputs / "sejours-longs.csv"]
    assert listing(outputs) == ["result-1.csv", "sejours-longs.csv"]
    assert read_csv(outputs / "result-1.csv") == [["sexe", "n"], ["F", "50"], ["M", "50"]]
    longs = sum(1 for i in range(300) if i * 2 > 500)
    rows = read_csv(outputs / "sejours-longs.csv")
    assert rows[0] == ["sexe", "n"]
    assert sum(int(n) for _, n in rows[1:]) == longs
    assert lines == [
        "instruction 1 : 2 lignes écrites dans result-1.csv",
        "instruction 2 : table ou vue créée",
        "instruction 3 : 2 lignes écrites dans sejours-longs.csv",
    ]


def test_a_parquet_output_keeps_its_types(data: Path, outputs: Path) -> None:
    script = "-- output: patients.parquet\nSELECT id, naissance FROM patients ORDER BY id;"

    run_script(script, tables=dataset_tables(data), outputs=outputs)

    table = pq.read_table(outputs / "patients.parquet")
    assert table.num_rows == 100
    assert str(table.schema.field("naissance").type) == "date32[day]"
    assert table.column("id").to_pylist()[:3] == [0, 1, 2]


def test_views_created_by_the_script_can_be_read(data: Path, outputs: Path) -> None:
    script = (
        "CREATE OR REPLACE VIEW femmes AS SELECT * FROM patients WHERE sexe = 'F';\n"
        "SELECT count(*) AS n FROM femmes;"
    )

    run_script(script, tables=dataset_tables(data), outputs=outputs)

    assert read_csv(outputs / "result-1.csv") == [["n"], ["50"]]


def test_a_refused_statement_writes_nothing(data: Path, outputs: Path) -> None:
    script = "SELECT 1 AS a;\nSELECT * FROM read_csv('/etc/passwd');\nSELECT 2 AS b;"

    with pytest.raises(QueryRefused, match=r"^Instruction 2 : Fonction refusée : read_csv"):
        run_script(script, tables=dataset_tables(data), outputs=outputs)

    # Every statement is checked before the first runs.
    assert listing(outputs) == []


def test_a_failure_at_run_time_writes_nothing(data: Path, outputs: Path) -> None:
    script = "SELECT 1 AS a;\nSELECT nope FROM patients;"

    with pytest.raises(QueryFailed, match=r"^Instruction 2 : Erreur dans la requête"):
        run_script(script, tables=dataset_tables(data), outputs=outputs)

    # The result of statement 1 was staged, never published; the staging folder is gone.
    assert listing(outputs) == []


def test_a_timeout_in_a_later_statement_writes_nothing(data: Path, outputs: Path) -> None:
    script = (
        "SELECT 1 AS a;\n"
        "SELECT sum(hash(a.range + b.range)) FROM range(1000000) a, range(1000000) b;"
    )

    with pytest.raises(QueryRefused, match=r"^Instruction 2 : La requête a dépassé") as refused:
        run_script(
            script,
            tables=dataset_tables(data),
            outputs=outputs,
            limits=BatchLimits(seconds=0.5),
        )

    assert refused.value.kind == "timeout"
    assert listing(outputs) == []


def test_an_output_over_the_row_limit_is_refused(data: Path, outputs: Path) -> None:
    with pytest.raises(QueryRefused, match="dépasse 50 lignes") as refused:
        run_script(
            "SELECT * FROM sejours;",
            tables=dataset_tables(data),
            outputs=outputs,
            limits=BatchLimits(max_rows=50),
        )

    assert refused.value.kind == "output"
    assert listing(outputs) == []


def test_an_existing_file_is_never_overwritten(data: Path, outputs: Path) -> None:
    (outputs / "result-1.csv").write_text("mine", encoding="utf-8")

    with pytest.raises(QueryRefused, match="existe déjà"):
        run_script("SELECT 1;", tables=dataset_tables(data), outputs=outputs)

    assert (outputs / "result-1.csv").read_text(encoding="utf-8") == "mine"


def test_a_symlinked_outputs_folder_is_refused(data: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, tmp_path / "link")

    with pytest.raises(QueryRefused, match="sortie"):
        run_script("SELECT 1;", tables=dataset_tables(data), outputs=tmp_path / "link")

    assert listing(elsewhere) == []


@pytest.mark.parametrize(
    "name",
    [
        "../escape.csv",
        "/tmp/escape.csv",  # noqa: S108 - a hostile name, never created
        "sub/escape.csv",
        ".hidden.csv",
        "report.txt",
        "report.csv.sh",
        "report",
        "a..csv",
        "é.csv",
        "",
        "x" * 200 + ".csv",
    ],
)
def test_hostile_output_names_are_refused(data: Path, outputs: Path, name: str) -> None:
    with pytest.raises(QueryRefused, match="Instruction 1 : Nom de fichier") as refused:
        run_script(f"-- output: {name}\nSELECT 1;", tables=dataset_tables(data), outputs=outputs)

    assert refused.value.kind == "output"
    assert listing(outputs) == []
    assert not (outputs.parent / "escape.csv").exists()


def test_two_statements_cannot_write_the_same_file(data: Path, outputs: Path) -> None:
    script = "-- output: result-2.csv\nSELECT 1;\nSELECT 2;"

    with pytest.raises(QueryRefused, match=r"Instruction 2 : Le fichier de sortie result-2\.csv"):
        run_script(script, tables=dataset_tables(data), outputs=outputs)


@pytest.mark.parametrize(
    ("script", "fragment"),
    [
        ("CREATE TABLE t (a INTEGER);", "CREATE [TEMP] TABLE|VIEW nom AS SELECT"),
        ("CREATE MACRO m(x) AS x;", "CREATE [TEMP] TABLE|VIEW nom AS SELECT"),
        ("CREATE SECRET s (TYPE s3);", "CREATE [TEMP] TABLE|VIEW nom AS SELECT"),
        ('CREATE TABLE "/tmp/x" AS SELECT 1;', "CREATE [TEMP] TABLE|VIEW nom AS SELECT"),
        ("CREATE VIEW v(a) AS SELECT 1;", "CREATE [TEMP] TABLE|VIEW nom AS SELECT"),
        ("CREATE TABLE t AS SELECT * FROM read_csv('/etc/passwd');", "read_csv"),
        ("CREATE TABLE t AS SELECT 1; ATTACH 'x.db';", "Instruction 2 : Instruction refusée"),
        ("CREATE TABLE t AS INSERT INTO p VALUES (1);", "Erreur de syntaxe"),
        ("INSERT INTO patients VALUES (1, 'F', DATE '2000-01-01');", "INSERT"),
        ("COPY patients TO 'copy.csv';", "COPY"),
        ("SET memory_limit = '64GB';", "SET"),
        ("-- output: t.csv\nCREATE TABLE t AS SELECT 1;", "ne s'applique qu'à une requête"),
        ("SELECT 1\x00;", "U+0000"),
        ("-- rien\n", "aucune instruction"),
    ],
)
def test_refused_scripts(data: Path, outputs: Path, script: str, fragment: str) -> None:
    with pytest.raises(QueryRefused) as refused:
        run_script(script, tables=dataset_tables(data), outputs=outputs)

    assert fragment in str(refused.value)
    assert listing(outputs) == []


def test_too_many_statements_or_characters_are_refused(data: Path, outputs: Path) -> None:
    tables = dataset_tables(data)
    with pytest.raises(QueryRefused, match="trop d'instructions"):
        run_script(
            "SELECT 1;" * 5, tables=tables, outputs=outputs, limits=BatchLimits(max_statements=4)
        )
    with pytest.raises(QueryRefused, match="trop longue"):
        run_script(
            "SELECT 1;" * 100, tables=tables, outputs=outputs, limits=BatchLimits(max_sql_chars=50)
        )


# --- the command, as the sandbox launches it ----------------------------------------------------


def sqljob(
    script: Path, *, data: Path | None, outputs: Path | None, **extra: str
) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(SRC),
        "HOME": str(script.parent),
        "LANG": "C.UTF-8",
        **extra,
    }
    if data is not None:
        env["HDH_DATA"] = str(data)
    if outputs is not None:
        env["HDH_OUTPUTS"] = str(outputs)
    return subprocess.run(
        [sys.executable, "-m", "hdh.workspace.sqljob", str(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_sqljob_command_writes_outputs_and_logs(data: Path, outputs: Path, tmp_path: Path) -> None:
    script = tmp_path / "job.sql"
    script.write_text(SCRIPT, encoding="utf-8")

    done = sqljob(script, data=data, outputs=outputs)

    assert done.returncode == 0, done.stderr
    assert listing(outputs) == ["result-1.csv", "sejours-longs.csv"]
    assert "instruction 3 : 2 lignes écrites dans sejours-longs.csv" in done.stdout
    assert "terminé : 2 fichier(s) écrit(s)" in done.stdout


def test_sqljob_command_exits_1_on_a_refused_statement(
    data: Path, outputs: Path, tmp_path: Path
) -> None:
    script = tmp_path / "job.sql"
    script.write_text("SELECT 1;\nATTACH '/tmp/x.db' AS x;\n", encoding="utf-8")

    done = sqljob(script, data=data, outputs=outputs)

    assert done.returncode == 1
    assert "Instruction 2 : Instruction refusée : ATTACH" in done.stderr
    assert listing(outputs) == []


def test_sqljob_command_refuses_a_missing_environment(tmp_path: Path, outputs: Path) -> None:
    script = tmp_path / "job.sql"
    script.write_text("SELECT 1;", encoding="utf-8")

    done = sqljob(script, data=None, outputs=outputs)

    assert done.returncode == 1
    assert "HDH_DATA" in done.stderr


def test_sqljob_command_refuses_an_unreadable_script(
    data: Path, outputs: Path, tmp_path: Path
) -> None:
    latin1 = tmp_path / "latin1.sql"
    latin1.write_bytes("SELECT 'é';".encode("latin-1"))

    for script in (latin1, tmp_path / "absent.sql"):
        done = sqljob(script, data=data, outputs=outputs)
        assert done.returncode == 1
        assert "illisible" in done.stderr
    assert listing(outputs) == []


def test_sqljob_command_refuses_a_symlink_in_the_dataset(
    data: Path, outputs: Path, tmp_path: Path
) -> None:
    os.symlink("/etc/passwd", data / "PASSWD.parquet")
    script = tmp_path / "job.sql"
    script.write_text("SELECT 1;", encoding="utf-8")

    done = sqljob(script, data=data, outputs=outputs)

    assert done.returncode == 1
    assert "lien symbolique" in done.stderr


def test_sqljob_main_usage() -> None:
    from hdh.workspace import sqljob as module

    assert module.main([]) == 2
    assert module.main(["a", "b"]) == 2


def test_sql_modules_import_no_django() -> None:
    # The sandbox has only the hdh source on PYTHONPATH and no Django settings.
    code = (
        "import sys, hdh.workspace.sql, hdh.workspace.sqljob; "
        "sys.exit(1 if any(m.split('.')[0] == 'django' for m in sys.modules) else 0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(SRC)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr


def test_sqljob_command_fits_under_an_address_space_limit(
    data: Path, outputs: Path, tmp_path: Path
) -> None:
    """The sandbox limits the address space; DuckDB gets half of it and the job still runs."""
    limit = 3 * 1024**3
    script = tmp_path / "job.sql"
    script.write_text(SCRIPT, encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(SRC), "HOME": str(tmp_path)}
    env |= {"HDH_DATA": str(data), "HDH_OUTPUTS": str(outputs)}

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    done = subprocess.run(
        [sys.executable, "-m", "hdh.workspace.sqljob", str(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        preexec_fn=limited,
    )

    assert done.returncode == 0, done.stderr
    assert listing(outputs) == ["result-1.csv", "sejours-longs.csv"]
    assert "limites : mémoire 1536MB" in done.stdout


@pytest.mark.parametrize("memory", ["1; DROP", "-1GB", "10 GB", "0MB", "9" * 30 + "GB", "'64MB'"])
def test_sqljob_command_refuses_a_malformed_memory_setting(
    data: Path, outputs: Path, tmp_path: Path, memory: str
) -> None:
    script = tmp_path / "job.sql"
    script.write_text("SELECT 1;", encoding="utf-8")

    done = sqljob(script, data=data, outputs=outputs, HDH_SQL_MEMORY=memory)

    assert done.returncode == 1
    assert "HDH_SQL_MEMORY invalide" in done.stderr
    assert listing(outputs) == []


def test_sqljob_command_takes_its_memory_from_the_launcher(
    data: Path, outputs: Path, tmp_path: Path
) -> None:
    script = tmp_path / "job.sql"
    script.write_text(SCRIPT, encoding="utf-8")

    done = sqljob(script, data=data, outputs=outputs, HDH_SQL_MEMORY="256MB")

    assert done.returncode == 0, done.stderr
    assert "limites : mémoire 256MB" in done.stdout
    assert listing(outputs) == ["result-1.csv", "sejours-longs.csv"]
