"""The job sandbox: a real job reads the project's Parquet and writes a table and a chart;
logs stream and are capped; jobs can be cancelled and time out; no sandbox means refusal.

Every job here runs in a real bubblewrap sandbox. The module is skipped only
where bwrap is missing outside CI (``dev.py`` installs it in CI, where these
tests must run).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import textwrap
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hdh.workspace import sandbox
from hdh.workspace.sandbox import JobSpec, Limits, Outcome

CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
pytestmark = [
    pytest.mark.database_independent,
    pytest.mark.skipif(
        shutil.which("bwrap") is None and not CI,
        reason="bubblewrap (bwrap) is not installed here; dev.py installs it in CI",
    ),
]


class Job:
    """A project folder (data, outputs, log) and a way to run a script against it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "project-a" / "data"
        self.outputs = root / "project-a" / "outputs"
        self.log = root / "project-a" / "job.log"
        self.data.mkdir(parents=True)
        self.outputs.mkdir()
        patients = pa.table(
            {
                "BEN_NIR_PSA": [f"P{i:04d}" for i in range(100)],
                "BEN_SEX_COD": [1 + i % 2 for i in range(100)],
                "BEN_NAI_ANN": [1940 + i % 60 for i in range(100)],
            }
        )
        pq.write_table(patients, self.data / "PATIENTS.parquet")
        (self.data / "manifest.json").write_text(json.dumps({"tables": ["PATIENTS"]}))

    def run(
        self,
        script: str,
        *,
        kind: str = "python",
        limits: Limits | None = None,
        should_cancel: Callable[[], bool] = lambda: False,
        require_sandbox: bool = True,
    ) -> Outcome:
        path = self.root / ("script.sql" if kind == "sql" else "script.py")
        path.write_text(textwrap.dedent(script), encoding="utf-8")
        spec = JobSpec(
            kind=kind,
            script=path,
            data=self.data,
            outputs=self.outputs,
            log=self.log,
            limits=limits or Limits(wall_seconds=120),
        )
        return sandbox.run(spec, should_cancel=should_cancel, require_sandbox=require_sandbox)

    @property
    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def job(tmp_path: Path) -> Job:
    return Job(tmp_path)


def test_the_sandbox_is_usable_here() -> None:
    usable, reason = sandbox.sandbox_status()
    assert usable, reason
    assert reason.startswith("bubblewrap")


def test_a_job_reads_the_data_with_each_library_and_writes_a_table_and_a_chart(job: Job) -> None:
    outcome = job.run(
        """
        import os
        import duckdb
        import matplotlib.pyplot as plt
        import pandas as pd
        import polars as pl

        data, outputs = os.environ["HDH_DATA"], os.environ["HDH_OUTPUTS"]
        frame = pd.read_parquet(f"{data}/PATIENTS.parquet")
        by_sex = pl.read_parquet(f"{data}/PATIENTS.parquet").group_by("BEN_SEX_COD").len()
        total = duckdb.sql(f"SELECT count(*) FROM '{data}/PATIENTS.parquet'").fetchall()[0][0]
        print("lignes", len(frame), by_sex.height, total)
        counts = frame.groupby("BEN_SEX_COD").size().rename("n").reset_index()
        counts.to_csv(f"{outputs}/effectifs.csv", index=False)
        os.makedirs(f"{outputs}/figures")
        counts.plot.bar(x="BEN_SEX_COD", y="n")
        plt.savefig(f"{outputs}/figures/effectifs.png")
        print("fini")
        """
    )
    assert outcome == Outcome("succeeded", 0, "Traitement terminé.")
    assert "lignes 100 2 100" in job.text
    files, problems = sandbox.collect_outputs(job.outputs)
    assert problems == []
    assert [f.name for f in files] == ["effectifs.csv", "figures/effectifs.png"]
    for found in files:
        content = (job.outputs / found.name).read_bytes()
        assert found.sha256 == hashlib.sha256(content).hexdigest()
        assert found.size == len(content)
    assert (job.outputs / "effectifs.csv").read_text() == "BEN_SEX_COD,n\n1,50\n2,50\n"
    assert (job.outputs / "figures/effectifs.png").read_bytes().startswith(b"\x89PNG")


def test_the_disclosure_checks_can_be_imported_in_a_job(job: Job) -> None:
    outcome = job.run(
        """
        import sys
        import hdh.airlock.check
        print("django" in sys.modules, hdh.airlock.check.__name__)
        """
    )
    assert outcome.status == "succeeded", job.text
    assert "False hdh.airlock.check" in job.text


def test_a_failing_script_fails_with_its_exit_code_and_traceback(job: Job) -> None:
    outcome = job.run("import sys\nprint('avant')\nraise SystemExit(3)\n")
    assert outcome == Outcome("failed", 3, "Le script s'est arrêté avec le code 3.")
    outcome = job.run("1 / 0\n")
    assert outcome.status == "failed"
    assert "ZeroDivisionError" in job.text


def test_a_job_can_be_cancelled_while_it_runs_and_its_log_is_live(job: Job) -> None:
    def log_says_ready() -> bool:
        # The log is read while the job runs: streamed, not written at the end.
        return job.log.exists() and "prêt" in job.text

    outcome = job.run(
        "import time\nprint('prêt', flush=True)\nwhile True:\n    time.sleep(1)\n",
        should_cancel=log_says_ready,
    )
    assert outcome.status == "cancelled"
    assert outcome.message == "Traitement annulé à la demande."
    assert "prêt" in job.text


def test_a_job_past_its_wall_time_is_stopped(job: Job) -> None:
    outcome = job.run("while True:\n    pass\n", limits=Limits(wall_seconds=2))
    assert outcome.status == "timed_out"
    assert "Durée maximale dépassée (2 s)" in outcome.message


def test_a_job_past_its_cpu_time_is_stopped(job: Job) -> None:
    outcome = job.run("while True:\n    pass\n", limits=Limits(wall_seconds=600, cpu_seconds=1))
    assert outcome.status == "failed"
    assert outcome.message.startswith("Temps de calcul maximal dépassé (1 s)")


def test_the_log_is_capped_with_a_note(job: Job) -> None:
    outcome = job.run(
        "for i in range(5000):\n    print('x' * 99)\n",
        limits=Limits(wall_seconds=120, log_bytes=1000),
    )
    assert outcome.status == "succeeded"
    text = job.log.read_bytes()
    assert text.startswith(b"x" * 99 + b"\n")
    kept, note = text[:1000], text[1000:].decode()
    assert kept.count(b"x") == 990
    assert "[journal tronqué : 499000 octets au-delà de la limite de 1000 octets" in note


def test_a_sql_job_runs_the_sql_module_in_the_same_sandbox(job: Job) -> None:
    outcome = job.run(
        "-- output: sexes.csv\nSELECT BEN_SEX_COD, count(*) AS n FROM PATIENTS "
        "GROUP BY 1 ORDER BY 1;\n",
        kind="sql",
    )
    assert outcome.status == "succeeded", job.text
    files, problems = sandbox.collect_outputs(job.outputs)
    assert [f.name for f in files] == ["sexes.csv"]
    assert problems == []


def test_a_job_sees_its_folders_at_data_and_outputs(job: Job) -> None:
    outcome = job.run(
        """
        import json, os
        print(json.dumps(dict(os.environ)))
        """,
    )
    assert outcome.status == "succeeded"
    inside = json.loads(job.text.splitlines()[0])
    assert inside["HDH_DATA"] == "/data"
    assert inside["HDH_OUTPUTS"] == "/outputs"


# --- refusal where no sandbox can be made -------------------------------------------------
def test_without_bwrap_a_job_is_refused_and_nothing_runs(
    job: Job, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_without_bwrap = tmp_path / "bin"
    bin_without_bwrap.mkdir()
    monkeypatch.setenv("PATH", str(bin_without_bwrap))
    assert sandbox.sandbox_status() == (
        False,
        "bubblewrap (bwrap) est introuvable sur ce serveur.",
    )
    outcome = job.run("open('/outputs/ran', 'w').write('oui')\n")
    assert outcome.status == "refused"
    assert outcome.exit_code is None
    assert "Aucun bac à sable" in outcome.message
    assert "introuvable" in outcome.message
    assert "Traitement refusé" in job.text
    assert list(job.outputs.iterdir()) == []


def test_a_bwrap_that_cannot_make_namespaces_means_refusal(
    job: Job, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A bwrap that fails at start, as it does where user namespaces are forbidden.
    fake = tmp_path / "bin" / "bwrap"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{fake.parent}:/usr/bin:/bin")
    usable, reason = sandbox.sandbox_status()
    assert not usable
    assert "No permissions to create new namespace" in reason
    outcome = job.run("open('/outputs/ran', 'w').write('oui')\n")
    assert outcome.status == "refused"
    assert list(job.outputs.iterdir()) == []


def test_without_bwrap_a_job_that_does_not_require_it_runs_as_a_plain_process(
    job: Job, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setenv("DJANGO_SECRET_KEY", "not-for-jobs")
    outcome = job.run(
        """
        import json, os, resource
        out = os.environ["HDH_OUTPUTS"]
        open(os.path.join(out, "env.json"), "w").write(json.dumps(dict(os.environ)))
        print("fsize", resource.getrlimit(resource.RLIMIT_FSIZE)[0])
        """,
        limits=Limits(wall_seconds=120, file_bytes=12345678),
        require_sandbox=False,
    )
    assert outcome.status == "succeeded", job.text
    env = json.loads((job.outputs / "env.json").read_text())
    assert set(env) - set(sandbox.THREAD_VARIABLES) == {
        "HDH_DATA",
        "HDH_OUTPUTS",
        "HDH_SQL_MEMORY",
        "HOME",
        "MPLCONFIGDIR",
        "MPLBACKEND",
        "PYTHONDONTWRITEBYTECODE",
        "LANG",
        "PATH",
        "PYTHONPATH",
    }
    assert Path(env["HDH_DATA"]) == job.data.resolve()
    assert Path(env["HDH_OUTPUTS"]) == job.outputs.resolve()
    assert "fsize 12345678" in job.text


# --- the spec and the output names --------------------------------------------------------
def test_a_malformed_spec_is_a_programming_error(job: Job, tmp_path: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text("pass\n")
    good = {"script": script, "data": job.data, "outputs": job.outputs, "log": job.log}
    with pytest.raises(ValueError, match="kind"):
        sandbox.run(JobSpec(kind="bash", **good))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="script"):
        sandbox.run(JobSpec(kind="python", **{**good, "script": tmp_path}))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="folders"):
        sandbox.run(JobSpec(kind="python", **{**good, "outputs": tmp_path / "none"}))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "vide"),
        ("../x.csv", ".."),
        ("a/../../x.csv", ".."),
        ("./x.csv", "« . »"),
        ("/etc/passwd", "absolu"),
        ("a\\..\\x.csv", "absolu"),
        ("a//b.csv", "vide"),
        ("a\x00b.csv", "nul"),
        ("a\nb.csv", "contrôle"),
        ("a\x1b[31mb.csv", "contrôle"),
        ("a\udcffb.csv", "invalide"),
        ("x" * 256, "255"),
        ("a/b/c/d/e/f.csv", "niveaux"),
    ],
)
def test_unsafe_output_names_are_named(name: str, reason: str) -> None:
    problem = sandbox.name_problem(name)
    assert problem is not None
    assert reason in problem


@pytest.mark.parametrize("name", ["table.csv", "a/b/c/d/e.csv", "Résultats été.png", "x" * 255])
def test_safe_output_names_pass(name: str) -> None:
    assert sandbox.name_problem(name) is None


def test_collect_outputs_caps_the_number_and_the_total_size(tmp_path: Path) -> None:
    for i in range(5):
        (tmp_path / f"f{i}.csv").write_bytes(b"x" * 100)
    files, problems = sandbox.collect_outputs(tmp_path, max_files=3)
    assert [f.name for f in files] == ["f0.csv", "f1.csv", "f2.csv"]
    assert len(problems) == 2
    assert all("au-delà de 3 fichiers" in p for p in problems)
    files, problems = sandbox.collect_outputs(tmp_path, max_total_bytes=250)
    assert [f.name for f in files] == ["f0.csv", "f1.csv"]
    assert len(problems) == 3
