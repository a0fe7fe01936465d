"""Hostile jobs: each escape attempt is refused or contained, and the outcome says so.

Each script tries one way out and prints what happened; the test checks both
the script's own report and what the host sees afterwards.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hdh.workspace import sandbox, seccomp
from hdh.workspace.cgroups import JobCgroup
from hdh.workspace.sandbox import Limits
from tests.workspace.test_sandbox import CI, Job

CONTROLLERS = JobCgroup.available()
pytestmark = [
    pytest.mark.database_independent,
    pytest.mark.skipif(
        not sandbox.shutil.which("bwrap") and not CI,
        reason="bubblewrap (bwrap) is not installed here; dev.py installs it in CI",
    ),
]
needs_pids_cgroup = pytest.mark.skipif(
    "pids" not in CONTROLLERS and os.geteuid() == 0,
    reason="no writable pids cgroup here, and RLIMIT_NPROC does not bound root",
)
needs_memory_cgroup = pytest.mark.skipif(
    "memory" not in CONTROLLERS,
    reason="no writable memory cgroup here (jobs are then bounded by RLIMIT_AS)",
)


@pytest.fixture
def job(tmp_path: Path) -> Job:
    return Job(tmp_path)


def report(job: Job) -> dict[str, str]:
    """The JSON the script printed last."""
    lines = [line for line in job.text.splitlines() if line.startswith("{")]
    assert lines, job.text
    found: dict[str, str] = json.loads(lines[-1])
    return found


PROBE = """
import json, os
def attempt(label, action):
    try:
        action()
        return "ouvert"
    except Exception as exc:
        return type(exc).__name__
results = {}
"""


# --- files ------------------------------------------------------------------------------
def test_system_secrets_and_home_folders_are_not_there(job: Job) -> None:
    outcome = job.run(
        PROBE
        + """
results["shadow"] = attempt("shadow", lambda: open("/etc/shadow").read())
results["ssh"] = attempt("ssh", lambda: os.listdir("/root/.ssh"))
results["home"] = attempt("home", lambda: os.listdir("/home"))
results["var"] = attempt("var", lambda: os.listdir("/var"))
results["etc"] = sorted(os.listdir("/etc"))
results["root"] = sorted(os.listdir("/"))
print(json.dumps(results))
"""
    )
    assert outcome.status == "succeeded", job.text
    found = report(job)
    assert found["shadow"] == "FileNotFoundError"
    assert found["ssh"] == "FileNotFoundError"
    assert found["home"] == "FileNotFoundError"
    assert found["var"] == "FileNotFoundError"
    assert set(found["etc"]) <= {"passwd", "group", "ld.so.cache", "fonts"}
    tops = {Path(p).parts[1] for p in sandbox._system_paths()}
    allowed = tops | {"bin", "sbin", "lib", "lib64", "etc", "proc", "dev", "tmp", "job"}
    assert set(found["root"]) <= allowed | {"data", "outputs"}


def test_only_the_python_install_and_source_are_visible_on_their_host_paths(job: Job) -> None:
    # Every folder above a bound path shows only the way down to it: nothing of
    # /root, /work or /home beyond the Python installation and the hdh source.
    bound = sandbox._system_paths()
    ancestors: dict[str, set[str]] = {}
    for path in bound:
        parts = Path(path).parts
        for depth in range(1, len(parts) - 1):
            above = str(Path(*parts[: depth + 1]))
            if any(above == b or above.startswith(b + "/") for b in bound):
                continue
            ancestors.setdefault(above, set()).add(parts[depth + 1])
    outcome = job.run(
        PROBE + f"print(json.dumps({{a: sorted(os.listdir(a)) for a in {sorted(ancestors)!r}}}))\n"
    )
    assert outcome.status == "succeeded", job.text
    found = report(job)
    assert {a: set(v) for a, v in found.items()} == ancestors


def test_the_platform_home_key_store_and_database_are_absent(
    job: Job, tmp_path: Path, settings
) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "hdh-home"
    (home / "keys").mkdir(parents=True)
    (home / "keys" / "master.key").write_text("secret")
    (home / "hdh.sqlite3").write_text("database")
    (home / "lake").mkdir()
    targets = [
        str(home / "keys" / "master.key"),
        str(home / "hdh.sqlite3"),
        str(home / "lake"),
        str(settings.HDH_HOME),
        str(settings.HDH_KEY_STORE),
        str(settings.HDH_LAKE),
        str(settings.HDH_WORKSPACES),
        str(job.data),
        str(job.outputs),
    ]
    outcome = job.run(PROBE + f"print(json.dumps({{t: os.path.exists(t) for t in {targets!r}}}))\n")
    assert outcome.status == "succeeded", job.text
    assert report(job) == dict.fromkeys(targets, False)


def test_another_projects_parquet_is_not_reachable(job: Job) -> None:
    other = job.root / "project-b" / "data"
    other.mkdir(parents=True)
    canary = f"CANARY-{uuid.uuid4().hex}"
    pq.write_table(pa.table({"secret": [canary]}), other / "PATIENTS.parquet")
    outcome = job.run(
        PROBE
        + f"""
import duckdb
results["host_path"] = attempt("host", lambda: open({str(other / "PATIENTS.parquet")!r}, "rb"))
results["relative"] = attempt("rel", lambda: open("/data/../../project-b/data/PATIENTS.parquet"))
results["duckdb"] = attempt(
    "duckdb", lambda: duckdb.sql("SELECT * FROM '/data/../project-b/data/*.parquet'").fetchall()
)
results["data"] = sorted(os.listdir("/data"))
results["parent"] = sorted(os.listdir("/data/.."))
print(json.dumps(results))
"""
    )
    assert outcome.status == "succeeded", job.text
    found = report(job)
    assert found["host_path"] == "FileNotFoundError"
    assert found["relative"] == "FileNotFoundError"
    assert found["duckdb"] != "ouvert"
    assert found["data"] == ["PATIENTS.parquet", "manifest.json"]
    assert "project-b" not in found["parent"]
    assert canary not in job.text


def test_the_data_and_everything_but_the_outputs_are_read_only(job: Job) -> None:
    before = (job.data / "PATIENTS.parquet").read_bytes()
    outcome = job.run(
        PROBE
        + """
results["data"] = attempt("data", lambda: open("/data/PATIENTS.parquet", "ab").write(b"x"))
results["new_data"] = attempt("new", lambda: open("/data/new.parquet", "wb"))
results["root"] = attempt("root", lambda: open("/escape.csv", "w"))
results["dotdot"] = attempt("dotdot", lambda: open("/outputs/../escape.csv", "w"))
results["usr"] = attempt("usr", lambda: open("/usr/escape", "w"))
results["script"] = attempt("script", lambda: open("/job/script.py", "a"))
results["source"] = attempt("source", lambda: open(__import__("hdh").__file__, "a"))
results["etc"] = attempt("etc", lambda: open("/etc/passwd", "a"))
results["dev"] = attempt("dev", lambda: open("/dev/escape", "w"))
results["tmp"] = attempt("tmp", lambda: open("/tmp/scratch", "w").write("ok"))
results["outputs"] = attempt("out", lambda: open("/outputs/ok.csv", "w").write("a\\n"))
print(json.dumps(results))
"""
    )
    assert outcome.status == "succeeded", job.text
    found = report(job)
    for place in ("data", "new_data", "root", "dotdot", "usr", "source", "etc", "dev"):
        assert found[place] == "OSError", (place, found[place])  # EROFS
    assert found["script"] in {"OSError", "PermissionError"}  # read-only copy, mode 0444
    assert found["tmp"] == "ouvert"
    assert found["outputs"] == "ouvert"
    assert (job.data / "PATIENTS.parquet").read_bytes() == before
    assert sorted(p.name for p in job.data.iterdir()) == ["PATIENTS.parquet", "manifest.json"]
    assert not (job.outputs.parent / "escape.csv").exists()
    assert [p.name for p in job.outputs.iterdir()] == ["ok.csv"]


def test_kernel_settings_cannot_be_changed_from_a_job(job: Job) -> None:
    # The sandbox user is host root when the service is: /proc must be read-only.
    outcome = job.run(
        PROBE
        + """
def write_back():
    path = "/proc/sys/kernel/printk_ratelimit"
    value = open(path).read()
    open(path, "w").write(value)
results["sysctl"] = attempt("sysctl", write_back)
results["oom"] = attempt("oom", lambda: open("/proc/self/oom_score_adj", "w").write("0"))
print(json.dumps(results))
"""
    )
    assert outcome.status == "succeeded", job.text
    assert report(job) == {"sysctl": "OSError", "oom": "OSError"}


def test_no_capability_no_other_process_and_no_new_user_namespace(job: Job) -> None:
    outcome = job.run(
        PROBE
        + """
import ctypes
status = dict(line.split(":\\t", 1) for line in open("/proc/self/status").read().splitlines())
results["uid"] = os.getuid()
results["caps"] = status["CapEff"].strip()
results["processes"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWUSER = 0x10000000
results["unshare"] = libc.unshare(CLONE_NEWUSER)
print(json.dumps(results))
"""
    )
    assert outcome.status == "succeeded", job.text
    found = report(job)
    assert found["uid"] == sandbox.SANDBOX_UID
    assert found["caps"] == "0000000000000000"
    assert len(found["processes"]) <= 3  # bwrap's init, the job, and nothing else
    assert found["unshare"] == -1


@pytest.mark.skipif(seccomp.program() is None, reason="no seccomp filter for this architecture")
def test_system_calls_a_job_never_needs_are_refused(job: Job) -> None:
    x86 = __import__("platform").machine() == "x86_64"
    numbers = {name: pair[0 if x86 else 1] for name, pair in seccomp.DENIED.items()}
    outcome = job.run(
        PROBE
        + f"""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
for name, number in {numbers!r}.items():
    result = libc.syscall(number, 0, 0, 0, 0, 0)
    results[name] = [result, ctypes.get_errno()]
results["getpid"] = libc.syscall({39 if x86 else 172}) == os.getpid()
print(json.dumps(results))
"""
    )
    assert outcome.status == "succeeded", job.text
    found = report(job)
    assert found.pop("getpid") is True  # the filter lets everything else through
    assert found == {name: [-1, 1] for name in numbers}  # EPERM, before any other check


def test_the_seccomp_filter_is_built_for_each_known_architecture() -> None:
    for machine in seccomp.AUDIT_ARCH:
        program = seccomp.program(machine)
        assert program is not None
        assert len(program) % 8 == 0  # struct sock_filter
        # load arch, check, refuse, load nr, one check per call (+ x32), allow, refuse
        extra = 1 if machine == "x86_64" else 0
        assert len(program) // 8 == 4 + len(seccomp.DENIED) + extra + 2
    assert seccomp.program("riscv64") is None


# --- network ----------------------------------------------------------------------------
def test_no_network_local_or_external_and_no_dns(job: Job) -> None:
    outcome = job.run(
        PROBE
        + """
import socket, urllib.request
def connect(host, port):
    with socket.create_connection((host, port), timeout=5):
        pass
results["postgres"] = attempt("pg", lambda: connect("127.0.0.1", 5432))
results["external"] = attempt("ext", lambda: connect("1.1.1.1", 443))
results["dns"] = attempt("dns", lambda: socket.getaddrinfo("www.health-data-hub.fr", 443))
results["url"] = attempt("url", lambda: urllib.request.urlopen("http://93.184.215.14/", timeout=5))
results["interfaces"] = sorted(name for _, name in socket.if_nameindex())
print(json.dumps(results))
"""
    )
    assert outcome.status == "succeeded", job.text
    found = report(job)
    assert found["postgres"] == "ConnectionRefusedError"
    assert found["external"] == "OSError"  # ENETUNREACH
    assert found["dns"] == "gaierror"
    assert found["url"] == "URLError"
    assert found["interfaces"] == ["lo"]


# --- resources --------------------------------------------------------------------------
@needs_pids_cgroup
def test_a_fork_bomb_is_bounded_by_the_process_limit(job: Job) -> None:
    token = f"{uuid.uuid4().int % 10**6}.{os.getpid()}"
    outcome = job.run(
        f"""
import os, sys
for made in range(100_000):
    try:
        pid = os.fork()
    except OSError:
        print("fork refusé après", made, flush=True)
        sys.exit(3)
    if pid == 0:
        os.execv("/usr/bin/sleep", ["sleep", "3600", "{token}"])
print("aucune limite")
""",
        limits=Limits(wall_seconds=120, processes=16),
    )
    assert outcome.status == "failed", job.text
    assert outcome.exit_code == 3
    assert "processus" in outcome.message
    assert "fork refusé après" in job.text
    assert not _processes_with(token)


@needs_memory_cgroup
def test_a_memory_hog_is_killed_at_the_memory_limit(job: Job) -> None:
    outcome = job.run(
        """
blocks = []
while True:
    blocks.append(bytearray(16 * 1024 * 1024))
""",
        limits=Limits(wall_seconds=120, memory_bytes=256 * 1024**2),
    )
    assert outcome.status == "failed", job.text
    assert outcome.message.startswith("Mémoire maximale dépassée (256 Mio)")


def test_an_infinite_loop_is_stopped_at_the_wall_time(job: Job) -> None:
    outcome = job.run("while True:\n    pass\n", limits=Limits(wall_seconds=2))
    assert outcome.status == "timed_out"


def test_a_job_flooding_its_log_still_stops_at_the_wall_time(job: Job) -> None:
    outcome = job.run(
        "while True:\n    print('x' * 1000)\n",
        limits=Limits(wall_seconds=2, log_bytes=10_000),
    )
    assert outcome.status == "timed_out"
    assert job.log.stat().st_size < 11_000
    assert "[journal tronqué" in job.text


def test_a_huge_file_is_stopped_at_the_file_size_limit(job: Job) -> None:
    outcome = job.run(
        """
with open("/outputs/huge.bin", "wb") as f:
    while True:
        f.write(bytes(1024 * 1024))
""",
        limits=Limits(wall_seconds=120, file_bytes=4 * 1024**2),
    )
    assert outcome.status == "failed"
    assert outcome.message == "Taille maximale d'un fichier dépassée (4 Mio)."
    assert (job.outputs / "huge.bin").stat().st_size <= 4 * 1024**2


def test_a_process_left_running_after_the_job_is_killed(job: Job) -> None:
    token = f"{uuid.uuid4().int % 10**6}.{os.getpid()}"
    outcome = job.run(
        f"""
import os
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv("/usr/bin/sleep", ["sleep", "3600", "{token}"])
    os._exit(0)
print("parti")
"""
    )
    assert outcome.status == "succeeded", job.text
    assert not _processes_with(token)


@pytest.mark.skipif(
    not CONTROLLERS, reason="no writable cgroup here: a plain job's setsid child escapes"
)
def test_a_process_left_running_by_a_plain_job_is_killed_too(
    job: Job, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without bwrap, no pid namespace: the job's cgroup catches what left its session.
    no_bwrap = tmp_path / "bin"
    no_bwrap.mkdir()
    monkeypatch.setenv("PATH", str(no_bwrap))
    token = f"{uuid.uuid4().int % 10**6}.{os.getpid()}"
    outcome = job.run(
        f"""
import os, subprocess
subprocess.Popen(["/usr/bin/sleep", "3600", "{token}"], start_new_session=True)
print("parti")
""",
        require_sandbox=False,
    )
    assert outcome.status == "succeeded", job.text
    assert "parti" in job.text
    assert not _processes_with(token)


def _processes_with(token: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if token.encode() in command:
                found.append(int(entry.name))
    return found


# --- the environment --------------------------------------------------------------------
def test_the_environment_holds_no_secret(job: Job, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DJANGO_SECRET_KEY", "django-secret")
    monkeypatch.setenv("DATABASE_URL", "postgres://hdh:password@db/hdh")
    monkeypatch.setenv("HDH_KEY_STORE_PASSPHRASE", "passphrase")
    outcome = job.run("import json, os\nprint(json.dumps(dict(os.environ)))\n")
    assert outcome.status == "succeeded", job.text
    env = report(job)
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
        "PWD",  # set by bwrap --chdir
    }
    assert env["HDH_DATA"] == "/data"
    assert all(env[name].isdigit() for name in sandbox.THREAD_VARIABLES)
    assert "secret" not in job.text
    assert "password" not in job.text


# --- outputs ----------------------------------------------------------------------------
def test_links_special_files_and_unsafe_names_in_outputs_are_skipped(job: Job) -> None:
    outcome = job.run(
        r"""
import os
out = "/outputs"
open(f"{out}/table.csv", "w").write("a\n1\n")
os.symlink("/data/PATIENTS.parquet", f"{out}/lien.parquet")
os.symlink("/etc", f"{out}/dossier")
open(f"{out}/original.csv", "w").write("b\n2\n")
os.link(f"{out}/original.csv", f"{out}/copie.csv")
try:
    os.link("/data/PATIENTS.parquet", f"{out}/donnees.parquet")
except OSError as exc:
    print("lien vers /data refusé", exc.errno)
os.mkfifo(f"{out}/tube")
open(f"{out}/bad\nname.csv", "w").write("c\n")
open(f"{out}/\x1b[31mrouge.csv", "w").write("c\n")
os.makedirs(f"{out}/1/2/3/4/5")
open(f"{out}/1/2/3/4/5/profond.csv", "w").write("c\n")
open(f"{out}/1/2/3/4/ok.csv", "w").write("c\n")
os.mkdir(f"{out}/..."); open(f"{out}/.../points.csv", "w").write("c\n")
"""
    )
    assert outcome.status == "succeeded", job.text
    assert "lien vers /data refusé 18" in job.text  # EXDEV: /data is another mount
    files, problems = sandbox.collect_outputs(job.outputs)
    assert [f.name for f in files] == [".../points.csv", "1/2/3/4/ok.csv", "table.csv"]
    text = "\n".join(problems)
    assert "lien.parquet : lien symbolique" in text
    assert "dossier : lien symbolique" in text
    assert "original.csv : lien physique" in text
    assert "copie.csv : lien physique" in text
    assert "tube : fichier spécial" in text
    assert "bad\\x0aname.csv : caractère de contrôle" in text
    assert "\\x1b[31mrouge.csv : caractère de contrôle" in text
    assert "1/2/3/4/5/profond.csv : plus de 5 niveaux" in text
    assert len(problems) == 8


def test_setuid_bits_set_by_a_job_are_dropped_from_its_outputs(job: Job) -> None:
    # As host root's files, a setuid program left in the outputs would give root away.
    outcome = job.run(
        """
import os, shutil
shutil.copy("/usr/bin/true", "/outputs/programme")
os.chmod("/outputs/programme", 0o6755)
os.mkdir("/outputs/partage")
os.chmod("/outputs/partage", 0o3777)
os.chmod("/outputs", 0o1777)
print(oct(os.stat("/outputs/programme").st_mode))
"""
    )
    assert outcome.status == "succeeded", job.text
    assert "0o106755" in job.text  # the job could set it…
    assert oct(job.outputs.joinpath("programme").stat().st_mode) == "0o100755"  # …not keep it
    assert oct(job.outputs.joinpath("partage").stat().st_mode) == "0o40777"
    assert job.outputs.stat().st_mode & 0o7000 == 0


def test_collect_outputs_skips_setuid_files(tmp_path: Path) -> None:
    program = tmp_path / "programme"
    program.write_bytes(b"\x7fELF")
    program.chmod(0o4755)
    files, problems = sandbox.collect_outputs(tmp_path)
    assert files == []
    assert problems == ["programme : droits setuid ou setgid, ignoré"]
