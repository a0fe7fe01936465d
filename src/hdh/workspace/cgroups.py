"""The cgroups of one job: its process (``pids``) and memory bounds, and how it ended.

Each job gets its own cgroup under the service's own, in every hierarchy that
lets us make one: cgroup v1 (one hierarchy per controller) or v2 (unified).
A controller that cannot be delegated here is left to resource limits. The
job's processes join the cgroup before the job starts (``procs_files``), and
everything in it is killed when the job ends, whatever left its session.

No Django here (see ``sandbox``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

JOB_CGROUP = "hdh-jobs"
REMOVE_WAIT_SECONDS = 10


@dataclass(frozen=True)
class Events:
    controllers: frozenset[str]
    oom: bool = False
    pids: bool = False


class JobCgroup:
    """The job's own cgroups (pids, memory), made under the service's own cgroup.

    cgroup v1 (one hierarchy per controller) and v2 (unified) are both
    supported; a controller that cannot be delegated here is left to rlimits.
    """

    def __init__(self, dirs: dict[str, Path], version: int) -> None:
        self.dirs = dirs  # controller -> the job's cgroup folder
        self.version = version

    @property
    def controllers(self) -> frozenset[str]:
        return frozenset(self.dirs)

    @staticmethod
    def available() -> frozenset[str]:
        with JobCgroup.create(processes=64, memory_bytes=4 * 1024**3) as probe:
            return probe.controllers

    @staticmethod
    @contextlib.contextmanager
    def create(*, processes: int, memory_bytes: int) -> Iterator[JobCgroup]:
        name = f"job-{uuid.uuid4().hex}"
        group = JobCgroup._create_v1(name, processes, memory_bytes) or JobCgroup._create_v2(
            name, processes, memory_bytes
        )
        group = group or JobCgroup({}, 0)
        try:
            yield group
        finally:
            group.remove()

    @staticmethod
    def _create_v1(name: str, processes: int, memory_bytes: int) -> JobCgroup | None:
        mounts = _cgroup_mounts()
        own = _own_cgroups()
        dirs: dict[str, Path] = {}
        # The first file of each controller is required; the others (swap
        # accounting) exist only on some kernels.
        values = {
            "pids": [("pids.max", str(processes))],
            "memory": [
                ("memory.limit_in_bytes", str(memory_bytes)),
                ("memory.memsw.limit_in_bytes", str(memory_bytes)),
            ],
        }
        for controller, settings in values.items():
            mount = mounts.get(controller)
            if mount is None or controller not in own:
                continue
            folder = mount / own[controller].lstrip("/") / JOB_CGROUP / name
            try:
                folder.mkdir(parents=True)
            except OSError:
                continue
            try:
                (required, value), *optional = settings
                (folder / required).write_text(value)
                for file, value in optional:
                    if (folder / file).exists():
                        (folder / file).write_text(value)
            except OSError:
                _remove_dir(folder)
                continue
            dirs[controller] = folder
        return JobCgroup(dirs, 1) if dirs else None

    @staticmethod
    def _create_v2(name: str, processes: int, memory_bytes: int) -> JobCgroup | None:
        mount = _cgroup_mounts().get("")
        own = _own_cgroups().get("")
        if mount is None or own is None:
            return None
        parent = mount / own.lstrip("/")
        try:
            offered = set((parent / "cgroup.controllers").read_text().split())
        except OSError:
            return None
        wanted = [c for c in ("pids", "memory") if c in offered]
        if not wanted:
            return None
        jobs = parent / JOB_CGROUP
        folder = jobs / name
        try:
            enable = " ".join(f"+{c}" for c in wanted)
            (parent / "cgroup.subtree_control").write_text(enable)
            jobs.mkdir(exist_ok=True)
            (jobs / "cgroup.subtree_control").write_text(enable)
            folder.mkdir()
        except OSError:
            return None
        try:
            if "pids" in wanted:
                (folder / "pids.max").write_text(str(processes))
            if "memory" in wanted:
                (folder / "memory.max").write_text(str(memory_bytes))
                with contextlib.suppress(OSError):
                    (folder / "memory.swap.max").write_text("0")
        except OSError:
            _remove_dir(folder)
            return None
        return JobCgroup(dict.fromkeys(wanted, folder), 2)

    def procs_files(self) -> list[str]:
        return sorted({str(folder / "cgroup.procs") for folder in self.dirs.values()})

    def pids(self) -> set[int]:
        found: set[int] = set()
        for folder in set(self.dirs.values()):
            with contextlib.suppress(OSError, ValueError):
                found |= {int(p) for p in (folder / "cgroup.procs").read_text().split()}
        return found

    def kill(self) -> None:
        if self.version == 2:
            for folder in set(self.dirs.values()):
                with contextlib.suppress(OSError):
                    (folder / "cgroup.kill").write_text("1")
        # A fork bomb may fork between reading and killing: repeat until empty.
        for _ in range(100):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.01)

    def events(self) -> Events:
        oom = pids = False
        memory = self.dirs.get("memory")
        if memory is not None:
            name = "memory.oom_control" if self.version == 1 else "memory.events"
            oom = _counter(memory / name, "oom_kill") > 0
            if self.version == 1 and not oom:
                oom = (
                    _number(memory / "memory.failcnt") > 0
                    and _counter(memory / "memory.oom_control", "under_oom") > 0
                )
        folder = self.dirs.get("pids")
        if folder is not None:
            pids = _counter(folder / "pids.events", "max") > 0
        return Events(controllers=self.controllers, oom=oom, pids=pids)

    def remove(self) -> None:
        self.kill()
        for folder in set(self.dirs.values()):
            _remove_dir(folder, self.kill)
            # The shared parent goes too once empty (busy while other jobs run),
            # so that nothing is left in the service's own cgroup.
            with contextlib.suppress(OSError):
                folder.parent.rmdir()
        self.dirs = {}


def _remove_dir(folder: Path, kill: Callable[[], None] = lambda: None) -> None:
    # A cgroup is busy until its last (killed) task has been reaped.
    deadline = time.monotonic() + REMOVE_WAIT_SECONDS
    while True:
        try:
            folder.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            if time.monotonic() > deadline:
                return
            kill()
            time.sleep(0.02)


def _counter(path: Path, key: str) -> int:
    with contextlib.suppress(OSError, ValueError):
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == key:
                return int(parts[1])
    return 0


def _number(path: Path) -> int:
    with contextlib.suppress(OSError, ValueError):
        return int(path.read_text().strip())
    return 0


def _cgroup_mounts() -> dict[str, Path]:
    """Mount point per v1 controller ("pids", "memory") and of the v2 hierarchy ("")."""
    found: dict[str, Path] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            before, _, after = line.partition(" - ")
            fields, tail = before.split(), after.split()
            if len(fields) < 5 or len(tail) < 3:
                continue
            point = Path(fields[4].replace("\\040", " "))
            if tail[0] == "cgroup2":
                found.setdefault("", point)
            elif tail[0] == "cgroup":
                for option in tail[2].split(","):
                    if option in ("pids", "memory"):
                        found.setdefault(option, point)
    return found


def _own_cgroups() -> dict[str, str]:
    """This process's cgroup per v1 controller, and its v2 cgroup under ""."""
    found: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            if controllers == "":
                found[""] = path
            for controller in controllers.split(","):
                if controller in ("pids", "memory"):
                    found[controller] = path
    return found
