"""``hdh run SCRIPT --synthetic BASE``: code to data on the SNDS catalog, before any access.

The catalog is the demo one (the whole SNDS dictionary), loaded once for the
module inside a transaction rolled back at the end.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from hdh.catalog import demo
from hdh.workspace.models import SCRIPT_LIMIT

CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
needs_bwrap = pytest.mark.skipif(
    shutil.which("bwrap") is None and not CI,
    reason="bubblewrap (bwrap) is not installed here; dev.py installs it in CI",
)
# PMSI MCO tables of the SNDS dictionary.
TABLES = "T_MCOaaB,T_MCOaaC"


@pytest.fixture(scope="module")
def snds_catalog(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            demo.load()
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    yield
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


@pytest.fixture
def catalog(snds_catalog: None, db: None) -> None:
    return None


class Ran:
    def __init__(self, out: str, err: str) -> None:
        self.out = out
        self.err = err


def hdh_run(*args: str | Path) -> Ran:
    out, err = io.StringIO(), io.StringIO()
    call_command("run", *[str(a) for a in args], stdout=out, stderr=err)
    return Ran(out.getvalue(), err.getvalue())


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


ANALYSIS = """
import json, os
import matplotlib.pyplot as plt
import pandas as pd
data, outputs = os.environ["HDH_DATA"], os.environ["HDH_OUTPUTS"]
manifest = json.load(open(os.path.join(data, "manifest.json")))
print("tables", sorted(os.listdir(data)), manifest["synthetic"], manifest["base"])
stays = pd.read_parquet(os.path.join(data, "T_MCOaaB.parquet"))
print("séjours", len(stays))
summary = pd.DataFrame({"colonnes": [len(stays.columns)], "lignes": [len(stays)]})
summary.to_csv(os.path.join(outputs, "resume.csv"), index=False)
plt.bar(["lignes"], [len(stays)])
plt.savefig(os.path.join(outputs, "lignes.png"))
"""


@pytest.mark.slow
def test_a_python_job_runs_on_the_synthetic_snds_and_writes_its_outputs(
    catalog: None, tmp_path: Path
) -> None:
    script = write(tmp_path, "analyse.py", ANALYSIS)
    outputs = tmp_path / "sorties"
    ran = hdh_run(
        script, "--synthetic", "snds", "--tables", TABLES, "--rows", "40", "--outputs", outputs
    )
    assert "Données synthétiques de snds : 2 table(s) de 40 lignes." in ran.out
    assert "tables ['T_MCOaaB.parquet', 'T_MCOaaC.parquet', 'manifest.json'] True snds" in ran.out
    assert "séjours 40" in ran.out
    assert sorted(p.name for p in outputs.iterdir()) == ["lignes.png", "resume.csv"]
    for name in ("lignes.png", "resume.csv"):
        digest = hashlib.sha256((outputs / name).read_bytes()).hexdigest()
        assert f"{digest}" in ran.out
        assert ran.out.count(name) == 1
    assert "Traitement terminé." in ran.out


@pytest.mark.slow
def test_a_sql_job_runs_the_same_way(catalog: None, tmp_path: Path) -> None:
    script = write(
        tmp_path,
        "requete.sql",
        "-- output: effectif.csv\nSELECT count(*) AS n FROM T_MCOaaB;\n",
    )
    outputs = tmp_path / "sorties"
    hdh_run(
        script, "--synthetic", "snds", "--tables", "T_MCOaaB", "--rows", "25", "--outputs", outputs
    )
    assert (outputs / "effectif.csv").read_text().splitlines() == ["n", "25"]


@pytest.mark.slow
def test_the_default_is_every_table_of_the_dictionary(catalog: None, tmp_path: Path) -> None:
    script = write(
        tmp_path,
        "liste.py",
        "import json, os\n"
        "m = json.load(open(os.path.join(os.environ['HDH_DATA'], 'manifest.json')))\n"
        "print('listées', len(m['tables']), 'fichiers', len(os.listdir(os.environ['HDH_DATA'])))\n",
    )
    ran = hdh_run(script, "--synthetic", "snds", "--rows", "1", "--outputs", tmp_path / "o")
    listed = int(ran.out.split("listées ")[1].split()[0])
    files = int(ran.out.split("fichiers ")[1].split()[0])
    assert files == listed + 1  # with the manifest
    # Every SNDS table of the demo dictionary has a sample (date columns whose code
    # lists hold blanks or placeholders included).
    assert " omise : " not in ran.err
    assert listed == 188


def test_a_failing_job_exits_non_zero_with_its_log(catalog: None, tmp_path: Path) -> None:
    script = write(tmp_path, "casse.py", "print('début')\nraise SystemExit(4)\n")
    out = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command(
            "run", str(script), "--synthetic", "snds", "--tables", "T_MCOaaB", "--rows", "1",
            "--outputs", str(tmp_path / "o"), stdout=out, stderr=io.StringIO(),
        )  # fmt: skip
    assert raised.value.returncode == 1
    assert str(raised.value) == "Le script s'est arrêté avec le code 4."
    assert "début" in out.getvalue()


def test_without_bwrap_the_job_runs_as_a_plain_process_unless_the_sandbox_is_required(
    catalog: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    script = write(
        tmp_path,
        "ou.py",
        "import os\nopen(os.path.join(os.environ['HDH_OUTPUTS'], 'ici.txt'), 'w').write('x')\n",
    )
    ran = hdh_run(script, "--synthetic", "snds", "--tables", "T_MCOaaB", "--rows", "1",
                  "--outputs", tmp_path / "plain")  # fmt: skip
    assert "Exécution sans bac à sable" in ran.out
    assert (tmp_path / "plain" / "ici.txt").read_text() == "x"
    with pytest.raises(CommandError, match="Aucun bac à sable") as raised:
        hdh_run(script, "--synthetic", "snds", "--tables", "T_MCOaaB", "--rows", "1",
                "--outputs", tmp_path / "sandboxed", "--sandbox")  # fmt: skip
    assert raised.value.returncode == 1
    assert list((tmp_path / "sandboxed").iterdir()) == []


@needs_bwrap
def test_with_bwrap_the_job_runs_in_the_sandbox(catalog: None, tmp_path: Path) -> None:
    script = write(
        tmp_path,
        "reseau.py",
        "import socket\n"
        "try:\n    socket.create_connection(('127.0.0.1', 5432), timeout=5)\n"
        "except OSError as exc:\n    print('réseau', type(exc).__name__)\n",
    )
    ran = hdh_run(script, "--synthetic", "snds", "--tables", "T_MCOaaB", "--rows", "1",
                  "--outputs", tmp_path / "o", "--sandbox")  # fmt: skip
    assert "Exécution dans le bac à sable" in ran.out
    assert "réseau ConnectionRefusedError" in ran.out


# --- bad input ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rows", "0"], "Nombre de lignes invalide (0)"),
        (["--rows", "-3"], "Nombre de lignes invalide (-3)"),
        (["--rows", "10001"], "Nombre de lignes invalide (10001)"),
        (["--rows", "1e3"], "Nombre de lignes invalide (1e3)"),
        (["--rows", "١٢"], "Nombre de lignes invalide"),
        (["--rows", "9" * 400], "un entier de 1 à 10000"),
        (
            ["--tables", "T_MCOaaB,PAS_UNE_TABLE"],
            "absente(s) du dictionnaire de snds : PAS_UNE_TABLE",
        ),
        (["--tables", "../../etc/passwd"], "absente(s) du dictionnaire de snds : ../../etc/passwd"),
        (["--tables", ",,"], "Aucune table demandée"),
    ],
)
def test_bad_options_are_named(
    catalog: None, tmp_path: Path, args: list[str], message: str
) -> None:
    script = write(tmp_path, "ok.py", "print('ne doit pas tourner')\n")
    with pytest.raises(CommandError) as raised:
        hdh_run(script, "--synthetic", "snds", "--outputs", tmp_path / "o", *args)
    assert message in str(raised.value)
    assert not (tmp_path / "o").exists()


def test_an_unknown_base_names_the_known_ones(catalog: None, tmp_path: Path) -> None:
    script = write(tmp_path, "ok.py", "pass\n")
    with pytest.raises(CommandError) as raised:
        hdh_run(script, "--synthetic", "sniiram", "--outputs", tmp_path / "o")
    message = str(raised.value)
    assert message.startswith("Base inconnue : sniiram. Bases du catalogue : ")
    assert "snds" in message
    assert "oscour" in message


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("absent.py", None, "Script introuvable"),
        ("analyse.R", "x <- 1", "Type de script non pris en charge (.R)"),
        ("analyse", "x = 1", "Type de script non pris en charge (sans extension)"),
        ("binaire.py", b"\xff\xfe\x00", "pas un texte UTF-8"),
        ("long.py", "#" * (SCRIPT_LIMIT + 1), "Script trop long"),
    ],
)
def test_bad_scripts_are_named(
    catalog: None, tmp_path: Path, name: str, content: str | bytes | None, message: str
) -> None:
    script = tmp_path / name
    if isinstance(content, bytes):
        script.write_bytes(content)
    elif content is not None:
        script.write_text(content)
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        hdh_run(script, "--synthetic", "snds", "--outputs", tmp_path / "o")


def test_a_folder_is_not_a_script(catalog: None, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="Script introuvable"):
        hdh_run(tmp_path, "--synthetic", "snds")


def test_outputs_must_be_an_empty_folder(catalog: None, tmp_path: Path) -> None:
    script = write(tmp_path, "ok.py", "pass\n")
    full = tmp_path / "pleine"
    full.mkdir()
    (full / "ancien.csv").write_text("garde-moi")
    with pytest.raises(CommandError, match="n'est pas vide"):
        hdh_run(script, "--synthetic", "snds", "--tables", "T_MCOaaB", "--outputs", full)
    assert (full / "ancien.csv").read_text() == "garde-moi"
    a_file = write(tmp_path, "fichier", "x")
    with pytest.raises(CommandError, match="n'est pas un dossier"):
        hdh_run(script, "--synthetic", "snds", "--tables", "T_MCOaaB", "--outputs", a_file)


def test_the_base_is_required(catalog: None, tmp_path: Path) -> None:
    script = write(tmp_path, "ok.py", "pass\n")
    with pytest.raises(CommandError, match="--synthetic"):
        hdh_run(script)


def test_a_job_manifest_lists_each_table_with_its_checksum(catalog: None, tmp_path: Path) -> None:
    from hdh.catalog.models import Base
    from hdh.workspace import local

    into = tmp_path / "data"
    into.mkdir()
    written, skipped = local.build_synthetic_dataset(
        base=Base.objects.get(slug="snds"), tables=["T_MCOaaB"], rows=5, into=into
    )
    assert skipped == []
    manifest = json.loads((into / "manifest.json").read_text())
    assert manifest["synthetic"] is True
    (entry,) = manifest["tables"]
    assert entry["table"] == "T_MCOaaB"
    assert entry["rows"] == 5
    content = (into / "T_MCOaaB.parquet").read_bytes()
    assert entry["sha256"] == hashlib.sha256(content).hexdigest()
    assert entry["bytes"] == len(content)
    assert written[0].columns == entry["columns"]
