"""Run a researcher's job in a sandbox: bubblewrap namespaces, cgroups and resource limits.

A job sees, read-only, the system's ``/usr``, the Python installation and the
hdh source (which holds no secret); its project's data folder at ``/data``
(read-only); its outputs folder at ``/outputs`` (the only writable host folder);
a private ``/tmp``. No network (a fresh network namespace has only a loopback
with nothing listening), no other process, no capability, no new user
namespace, a read-only ``/proc``, and a seccomp filter refusing the system
calls a job never needs (``seccomp``). Processes and memory are bounded by the
job's own cgroup (``cgroups``) when the cgroup file system lets us make one,
else by resource limits; time by the wall clock and ``RLIMIT_CPU``; file size
by ``RLIMIT_FSIZE``. What a job leaves in its outputs is collected by
``outputs`` (re-exported here).

When the service runs as root, the sandbox's uid 65534 maps to host root
(bubblewrap maps the sandbox user to the caller), so ``RLIMIT_NPROC`` does not
apply: the ``pids`` cgroup is then required, and a server that has neither
refuses jobs. The containment of files rests on what is mounted, never on
permissions.

No Django here: ``hdh run`` uses this module on a researcher's own machine.
"""

from __future__ import annotations

import contextlib
import functools
import os
import resource
import selectors
import shutil
import signal
import stat
import subprocess  # nosec B404
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from hdh.workspace import seccomp
from hdh.workspace.cgroups import Events, JobCgroup
from hdh.workspace.outputs import (
    MAX_OUTPUT_BYTES,
    MAX_OUTPUT_FILES,
    OutputFile,
    collect_outputs,
    mib,
    name_problem,
    printable,
)

__all__ = [
    "MAX_OUTPUT_BYTES",
    "MAX_OUTPUT_FILES",
    "JobSpec",
    "Limits",
    "Outcome",
    "OutputFile",
    "collect_outputs",
    "name_problem",
    "run",
    "sandbox_status",
]

POLL_SECONDS = 0.5
SANDBOX_UID = 65534
CPU_GRACE_SECONDS = 5  # between SIGXCPU (soft limit) and SIGKILL (hard limit)
OPEN_FILES = 1024
SHM_BYTES = 64 * 1024**2
PROBE_SECONDS = 60
KILL_WAIT_SECONDS = 10
LOG_TAIL_BYTES = 4096
READS_PER_POLL = 16
# Paths inside the sandbox, each a private tmpfs.
JOB_TMP = "/tmp"  # noqa: S108  # nosec B108
JOB_SHM = "/dev/shm"  # noqa: S108  # nosec B108
# Settings whose paths a job must never see (read from the environment: no Django here).
PROTECTED_SETTINGS = (
    "HDH_HOME",
    "HDH_LAKE",
    "HDH_KEY_STORE",
    "HDH_WORKSPACES",
    "HDH_AUDIT_ANCHOR",
)


@dataclass(frozen=True)
class Limits:
    wall_seconds: int = 900  # wall clock
    cpu_seconds: int = 900  # RLIMIT_CPU, per process
    # cgroup memory, else RLIMIT_AS (polars needs about 2 GiB of address space to start)
    memory_bytes: int = 4 * 1024**3
    processes: int = 64  # cgroup pids, else RLIMIT_NPROC (when not root)
    file_bytes: int = 1024**3  # RLIMIT_FSIZE: largest file a job may write
    log_bytes: int = 1024**2  # log kept; the rest is dropped with a note


@dataclass(frozen=True)
class JobSpec:
    kind: str  # "python" | "sql"
    script: Path  # copied into the sandbox, read-only
    data: Path | None  # the project's tables: <TABLE>.parquet (+ manifest.json)
    outputs: Path  # empty folder the job writes into (read-write)
    log: Path  # stdout and stderr, written as the job runs, capped at log_bytes
    limits: Limits = field(default_factory=Limits)


@dataclass(frozen=True)
class Outcome:
    status: str  # "succeeded" | "failed" | "timed_out" | "cancelled" | "refused"
    exit_code: int | None
    message: str  # short, in French, for the page


KINDS = ("python", "sql")
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "POLARS_MAX_THREADS",
)


# --- sandbox availability -----------------------------------------------------------------
def sandbox_status() -> tuple[bool, str]:
    """Whether a job sandbox can be made here, and why not (or what bounds it), in French."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return False, "bubblewrap (bwrap) est introuvable sur ce serveur."
    return _probe(bwrap)


@functools.lru_cache(maxsize=8)
def _probe(bwrap: str) -> tuple[bool, str]:
    controllers = JobCgroup.available()
    if os.geteuid() == 0 and "pids" not in controllers:
        return False, (
            "le service tourne en root sans cgroup « pids » accessible : "
            "le nombre de processus d'un traitement ne peut pas être borné."
        )
    exposed = _exposed_protected_paths()
    if exposed:
        return False, f"l'installation Python ou le code contient un dossier protégé ({exposed})."
    with tempfile.TemporaryDirectory(prefix="hdh-probe-") as tmp:
        root = Path(tmp)
        script = root / "probe.py"
        script.write_text("import sys\nsys.stdout.write('ok')\n", encoding="utf-8")
        outputs = root / "outputs"
        outputs.mkdir()
        spec = JobSpec(kind="python", script=script, data=None, outputs=outputs, log=root / "log")
        work = root / "work"
        work.mkdir()
        try:
            with _seccomp_fd(work) as filter_fd:
                done = subprocess.run(  # noqa: S603  # nosec B603
                    _bwrap_command(bwrap, spec, _prepare(spec, work), filter_fd),
                    capture_output=True,
                    timeout=PROBE_SECONDS,
                    check=False,
                    env={"PATH": "/usr/bin:/bin"},
                    pass_fds=() if filter_fd is None else (filter_fd,),
                )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return False, f"bubblewrap n'a pas pu démarrer ({type(exc).__name__})."
    if done.returncode != 0 or done.stdout != b"ok":
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["?"]
        return False, f"bubblewrap a échoué : {printable(detail[0])[:200]}"
    bounds = ", ".join(
        [
            "processus (cgroup)" if "pids" in controllers else "processus (RLIMIT_NPROC)",
            "mémoire (cgroup)" if "memory" in controllers else "mémoire (RLIMIT_AS)",
        ]
    )
    return True, f"bubblewrap ; limites : {bounds}."


def _exposed_protected_paths() -> str:
    """A protected folder (key store, database, lake…) inside what every job sees, if any."""
    visible = [Path(p).resolve() for p in _system_paths()]
    for name in PROTECTED_SETTINGS:
        value = os.environ.get(name)
        if not value:
            continue
        protected = Path(value).resolve()
        for path in visible:
            if protected == path or protected.is_relative_to(path):
                return name
    return ""


# --- running a job ------------------------------------------------------------------------
def run(
    spec: JobSpec,
    *,
    should_cancel: Callable[[], bool] = lambda: False,
    require_sandbox: bool = True,
) -> Outcome:
    """Run ``spec`` to its end, streaming its log; never raises for what the job does.

    Where no sandbox can be made, the job is refused, unless
    ``require_sandbox=False``: it then runs as a plain subprocess with the same
    environment and limits (``hdh run`` on a researcher's own machine and
    synthetic data; SQL jobs, whose engine is locked down on its own).
    """
    if spec.kind not in KINDS:
        raise ValueError(f"unknown job kind {spec.kind!r}")
    if not spec.script.is_file():
        raise ValueError("the script is not a file")
    if not spec.outputs.is_dir() or (spec.data is not None and not spec.data.is_dir()):
        raise ValueError("the data and outputs folders must exist")
    usable, reason = sandbox_status()
    if require_sandbox and not usable:
        _write_note(spec.log, f"Traitement refusé : {reason}")
        return Outcome(
            "refused",
            None,
            f"Aucun bac à sable n'est disponible sur ce serveur : traitement refusé ({reason})",
        )
    with (
        tempfile.TemporaryDirectory(prefix="hdh-job-") as tmp,
        _seccomp_fd(Path(tmp)) as filter_fd,
        JobCgroup.create(
            processes=spec.limits.processes, memory_bytes=spec.limits.memory_bytes
        ) as cgroup,
    ):
        work = Path(tmp)
        prepared = _prepare(spec, work)
        bwrap = shutil.which("bwrap") if usable else None
        if bwrap is not None:
            env: dict[str, str] = {}
            command, cwd = _bwrap_command(bwrap, spec, prepared, filter_fd), str(work)
        else:
            command, env, cwd = _plain_command(spec, prepared)
        outcome = _supervise(
            spec,
            command,
            env,
            cwd,
            cgroup,
            should_cancel,
            sandboxed=bwrap is not None,
            pass_fds=() if filter_fd is None or bwrap is None else (filter_fd,),
        )
    _drop_special_bits(spec.outputs)
    return outcome


@contextlib.contextmanager
def _seccomp_fd(work: Path) -> Iterator[int | None]:
    """An open file descriptor on the job's seccomp filter, for ``bwrap --seccomp``."""
    filter_program = seccomp.program()
    if filter_program is None:
        yield None
        return
    path = work / "seccomp.bpf"
    path.write_bytes(filter_program)
    fd = os.open(path, os.O_RDONLY)
    try:
        yield fd
    finally:
        os.close(fd)


def _drop_special_bits(outputs: Path) -> None:
    """Drop setuid, setgid and sticky bits a job set in its outputs.

    Where the service runs as root, the job's files are host root's: a setuid
    program left in the outputs would give root to whoever runs it.
    """
    for folder, dirs, files in os.walk(outputs):
        for name in [".", *dirs, *files]:
            path = os.path.join(folder, name)
            try:
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            except OSError:
                continue  # a symbolic link or a special file: never followed, never kept
            try:
                mode = os.fstat(fd).st_mode
                if mode & 0o7000 and (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                    os.fchmod(fd, stat.S_IMODE(mode) & 0o777)
            finally:
                os.close(fd)


@dataclass(frozen=True)
class _Prepared:
    script: Path  # the private copy
    etc: Path  # passwd and group for the sandbox user
    home: Path  # private writable folder (plain mode's cwd and HOME)
    empty_data: Path  # stands for /data when the job has no dataset


def _prepare(spec: JobSpec, work: Path) -> _Prepared:
    suffix = ".sql" if spec.kind == "sql" else ".py"
    script = work / f"script{suffix}"
    shutil.copyfile(spec.script, script)
    script.chmod(0o444)
    etc = work / "etc"
    etc.mkdir()
    (etc / "passwd").write_text(
        f"job:x:{SANDBOX_UID}:{SANDBOX_UID}:job:/tmp:/usr/sbin/nologin\n", encoding="utf-8"
    )
    (etc / "group").write_text(f"job:x:{SANDBOX_UID}:\n", encoding="utf-8")
    home = work / "home"
    home.mkdir()
    empty = work / "data"
    empty.mkdir()
    return _Prepared(script=script, etc=etc, home=home, empty_data=empty)


def _job_argv(python: str, script: str, kind: str) -> list[str]:
    if kind == "sql":
        return [python, "-u", "-m", "hdh.workspace.sqljob", script]
    return [python, "-u", script]


def _environment(
    *, data: str, outputs: str, home: str, source: str, limits: Limits
) -> dict[str, str]:
    venv_bin = str(Path(sys.prefix) / "bin")
    # The process limit counts threads: keep the libraries' pools (one thread
    # per core by default) well inside it on a many-core server.
    threads = str(max(1, min(os.cpu_count() or 1, limits.processes // 8)))
    return {
        **dict.fromkeys(THREAD_VARIABLES, threads),
        "HDH_DATA": data,
        "HDH_OUTPUTS": outputs,
        # DuckDB cannot see a cgroup memory limit: SQL jobs spill or fail cleanly below it.
        "HDH_SQL_MEMORY": f"{max(64, limits.memory_bytes // 2 // 2**20)}MB",
        "HOME": home,
        "MPLCONFIGDIR": f"{home}/mpl",
        "MPLBACKEND": "Agg",
        "PYTHONDONTWRITEBYTECODE": "1",
        "LANG": "C.UTF-8",
        "PATH": f"{venv_bin}:/usr/bin:/bin",
        "PYTHONPATH": source,
    }


def _source_dir() -> Path:
    import hdh

    return Path(hdh.__file__).resolve().parent.parent


def _system_paths() -> list[str]:
    """Host folders every job sees read-only, at the same path: the system and Python."""
    wanted = ["/usr"]
    for prefix in (sys.base_prefix, sys.prefix, str(_source_dir())):
        wanted += [prefix, os.path.realpath(prefix)]
    kept: list[str] = []
    for path in sorted(set(wanted), key=len):
        if not Path(path).is_dir():
            continue
        if any(path == k or path.startswith(k.rstrip("/") + "/") for k in kept):
            continue
        kept.append(path)
    return kept


def _bwrap_command(
    bwrap: str, spec: JobSpec, prepared: _Prepared, seccomp_fd: int | None
) -> list[str]:
    limits = spec.limits
    args = [
        bwrap,
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--clearenv",
        "--uid",
        str(SANDBOX_UID),
        "--gid",
        str(SANDBOX_UID),
        "--hostname",
        "hdh-job",
    ]
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    for path in _system_paths():
        args += ["--ro-bind", path, path]
    for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        host = Path("/") / top
        if host.is_symlink():
            args += ["--symlink", os.readlink(host), f"/{top}"]
        elif host.is_dir():
            args += ["--ro-bind", str(host), f"/{top}"]
    for shared in ("/etc/ld.so.cache", "/etc/fonts"):
        args += ["--ro-bind-try", shared, shared]
    args += ["--ro-bind", str(prepared.etc / "passwd"), "/etc/passwd"]
    args += ["--ro-bind", str(prepared.etc / "group"), "/etc/group"]
    # A read-only /proc: with the sandbox user mapped to host root, a writable
    # /proc/sys would let a job change the host kernel's settings.
    args += ["--proc", "/proc", "--remount-ro", "/proc"]
    args += ["--dev", "/dev", "--size", str(SHM_BYTES), "--tmpfs", JOB_SHM]
    args += ["--remount-ro", "/dev"]
    args += ["--size", str(limits.file_bytes), "--tmpfs", JOB_TMP]
    script = "/job/script.sql" if spec.kind == "sql" else "/job/script.py"
    args += ["--ro-bind", str(prepared.script), script]
    data = spec.data if spec.data is not None else prepared.empty_data
    args += ["--ro-bind", str(data.resolve()), "/data"]
    args += ["--bind", str(spec.outputs.resolve()), "/outputs"]
    args += ["--remount-ro", "/", "--chdir", JOB_TMP]
    environment = _environment(
        data="/data", outputs="/outputs", home=JOB_TMP, source=str(_source_dir()), limits=limits
    )
    for name, value in environment.items():
        args += ["--setenv", name, value]
    return [*args, "--", *_job_argv(sys.executable, script, spec.kind)]


def _plain_command(spec: JobSpec, prepared: _Prepared) -> tuple[list[str], dict[str, str], str]:
    data = spec.data if spec.data is not None else prepared.empty_data
    env = _environment(
        data=str(data.resolve()),
        outputs=str(spec.outputs.resolve()),
        home=str(prepared.home),
        source=str(_source_dir()),
        limits=spec.limits,
    )
    command = _job_argv(sys.executable, str(prepared.script), spec.kind)
    return command, env, str(prepared.home)


def _rlimits(limits: Limits, cgroup: JobCgroup) -> list[tuple[int, tuple[int, int]]]:
    chosen = [
        (resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + CPU_GRACE_SECONDS)),
        (resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes)),
        (resource.RLIMIT_CORE, (0, 0)),
        (resource.RLIMIT_NOFILE, (OPEN_FILES, OPEN_FILES)),
    ]
    if "memory" not in cgroup.controllers:
        chosen.append((resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes)))
    if "pids" not in cgroup.controllers and os.geteuid() != 0:
        # RLIMIT_NPROC counts every task of the user: allow this many more.
        allowed = _tasks_of(os.getuid()) + limits.processes
        chosen.append((resource.RLIMIT_NPROC, (allowed, allowed)))
    return chosen


def _tasks_of(uid: int) -> int:
    count = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if entry.stat().st_uid == uid:
                count += len(os.listdir(entry / "task"))
    return count


def _child_setup(
    procs_files: list[str], rlimits: list[tuple[int, tuple[int, int]]]
) -> Callable[[], None]:
    pid_files = [os.fsencode(f) for f in procs_files]

    def setup() -> None:
        # Runs in the child before exec: join the job's cgroups, then bound it.
        pid = str(os.getpid()).encode()
        for path in pid_files:
            fd = os.open(path, os.O_WRONLY)
            try:
                os.write(fd, pid)
            finally:
                os.close(fd)
        for which, values in rlimits:
            resource.setrlimit(which, values)

    return setup


class _Log:
    """The job's log file, written as output arrives, capped, flushed at every chunk."""

    def __init__(self, path: Path, cap: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.file = path.open("wb")
        self.cap = cap
        self.written = 0
        self.dropped = 0
        self.tail = b""

    def write(self, chunk: bytes) -> None:
        self.tail = (self.tail + chunk)[-LOG_TAIL_BYTES:]
        room = self.cap - self.written
        if room > 0:
            kept = chunk[:room]
            self.file.write(kept)
            self.written += len(kept)
            self.dropped += len(chunk) - len(kept)
        else:
            self.dropped += len(chunk)
        self.file.flush()

    def close(self) -> None:
        if self.dropped:
            note = (
                f"\n[journal tronqué : {self.dropped} octets au-delà de la limite de "
                f"{self.cap} octets n'ont pas été conservés]\n"
            )
            self.file.write(note.encode("utf-8"))
        self.file.close()


def _write_note(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="utf-8")


def _supervise(
    spec: JobSpec,
    command: list[str],
    env: dict[str, str],
    cwd: str,
    cgroup: JobCgroup,
    should_cancel: Callable[[], bool],
    *,
    sandboxed: bool,
    pass_fds: tuple[int, ...],
) -> Outcome:
    limits = spec.limits
    log = _Log(spec.log, limits.log_bytes)
    stopped: str | None = None
    try:
        process = subprocess.Popen(  # noqa: S603  # nosec B603
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
            close_fds=True,
            pass_fds=pass_fds,
            preexec_fn=_child_setup(cgroup.procs_files(), _rlimits(limits, cgroup)),
        )
    except (OSError, subprocess.SubprocessError) as exc:
        log.write(f"Le traitement n'a pas pu démarrer ({type(exc).__name__}).\n".encode())
        log.close()
        return Outcome("failed", None, "Le traitement n'a pas pu démarrer.")
    assert process.stdout is not None  # nosec B101
    pipe = process.stdout
    os.set_blocking(pipe.fileno(), False)
    selector = selectors.DefaultSelector()
    selector.register(pipe, selectors.EVENT_READ)
    started = time.monotonic()
    killed_at: float | None = None
    open_pipe = True
    try:
        while open_pipe:
            if selector.select(POLL_SECONDS):
                open_pipe = _drain(pipe, log)
            if killed_at is None:
                if process.poll() is not None:
                    pass  # over; whatever it left running goes with the tree
                elif should_cancel():
                    stopped = "cancelled"
                elif time.monotonic() - started > limits.wall_seconds:
                    stopped = "timed_out"
                else:
                    continue
                _kill(process, cgroup)
                killed_at = time.monotonic()
            elif time.monotonic() - killed_at > KILL_WAIT_SECONDS:
                break  # something outside our reach holds the pipe: stop reading
    finally:
        _kill(process, cgroup)
        selector.close()
        pipe.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(KILL_WAIT_SECONDS)
        events = cgroup.events()
        log.close()
    return _outcome(process.returncode, stopped, events, log.tail, limits, sandboxed=sandboxed)


def _drain(pipe: IO[bytes], log: _Log) -> bool:
    """Copy what is available (a bounded amount) to the log; False at end of file.

    Bounded so that a job printing without pause still gets its limits and
    cancellation checked between reads.
    """
    fd = pipe.fileno()
    for _ in range(READS_PER_POLL):
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return True
        if not chunk:
            return False
        log.write(chunk)
    return True


def _kill(process: subprocess.Popen[bytes], cgroup: JobCgroup) -> None:
    # bwrap's --die-with-parent takes the sandbox down with it; the cgroup
    # catches whatever left the process group (setsid) in plain mode.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    cgroup.kill()


def _outcome(
    code: int | None,
    stopped: str | None,
    events: Events,
    tail: bytes,
    limits: Limits,
    *,
    sandboxed: bool,
) -> Outcome:
    notes = []
    if events.oom:
        notes.append(f"mémoire maximale atteinte ({mib(limits.memory_bytes)})")
    if events.pids:
        notes.append(f"nombre maximal de processus atteint ({limits.processes})")
    suffix = f" ({' ; '.join(notes)})" if notes else ""
    if stopped == "cancelled":
        return Outcome("cancelled", code, "Traitement annulé à la demande.")
    if stopped == "timed_out":
        return Outcome(
            "timed_out",
            code,
            f"Durée maximale dépassée ({limits.wall_seconds} s) : traitement arrêté{suffix}.",
        )
    if code == 0:
        return Outcome("succeeded", 0, "Traitement terminé.")
    signum = None
    if code is not None and code < 0:
        signum = -code
    elif sandboxed and code is not None and code > 128:
        signum = code - 128  # bwrap reports a child killed by signal N as 128 + N
    if events.oom or (b"MemoryError" in tail and "memory" not in events.controllers):
        message = f"Mémoire maximale dépassée ({mib(limits.memory_bytes)}) : traitement arrêté."
    elif signum == signal.SIGXCPU:
        message = f"Temps de calcul maximal dépassé ({limits.cpu_seconds} s) : traitement arrêté."
    elif b"[Errno 27]" in tail or signum == signal.SIGXFSZ:
        message = f"Taille maximale d'un fichier dépassée ({mib(limits.file_bytes)})."
    elif events.pids:
        message = f"Nombre maximal de processus atteint ({limits.processes})."
    elif signum is not None:
        message = f"Le script a été arrêté par le signal {signum}."
    else:
        message = f"Le script s'est arrêté avec le code {code}."
    return Outcome("failed", code, message)
