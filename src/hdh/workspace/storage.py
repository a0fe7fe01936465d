"""Where a workspace keeps its files: one folder per workspace, one per job.

``HDH_WORKSPACES/<workspace>/jobs/<number>/`` holds the job's script, its log
and its ``outputs/`` folder (mounted read-write in the sandbox). Outputs stay
where the job wrote them; ``Output.path`` is relative to ``HDH_WORKSPACES``.
Every path is built here from safe segments and checked to stay inside the root.
"""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path

from django.conf import settings

from hdh.core.lake import safe_segment

LOG_NAME = "log.txt"
OUTPUTS = "outputs"
SCRIPT_NAMES = {"python": "script.py", "sql": "script.sql"}


class UnsafePath(ValueError):
    """A stored path that would lead outside the workspaces root."""


def root() -> Path:
    return Path(settings.HDH_WORKSPACES)


def workspace_folder(reference: str) -> Path:
    return root() / safe_segment(reference)


def job_folder(reference: str, number: int) -> Path:
    return workspace_folder(reference) / "jobs" / f"{int(number):04d}"


def script_path(reference: str, number: int, kind: str) -> Path:
    return job_folder(reference, number) / SCRIPT_NAMES[kind]


def log_path(reference: str, number: int) -> Path:
    return job_folder(reference, number) / LOG_NAME


def outputs_folder(reference: str, number: int) -> Path:
    return job_folder(reference, number) / OUTPUTS


def relative(path: Path) -> str:
    """``path`` relative to the root, as stored in ``Output.path``."""
    return inside_root(path).relative_to(root().resolve()).as_posix()


def inside_root(path: Path) -> Path:
    """``path`` resolved, refused unless it lies under the workspaces root."""
    base = root().resolve()
    resolved = path.resolve()
    if resolved != base and base not in resolved.parents:
        raise UnsafePath("path outside the workspaces root")
    return resolved


def stored(relative_path: str) -> Path:
    """The file an ``Output.path`` names, refused if it would leave the root."""
    if not relative_path or "\x00" in relative_path or Path(relative_path).is_absolute():
        raise UnsafePath("not a relative path")
    candidate = root() / relative_path
    if candidate.is_symlink():
        raise UnsafePath("a link, not the file a job wrote")
    return inside_root(candidate)


def prepare_job_folder(reference: str, number: int, kind: str, script: str) -> Path:
    """A clean job folder with the script written in it; returns the script path.

    A folder left by a submission that rolled back (same number, never
    committed) is replaced: nothing in it was ever recorded.
    """
    folder = job_folder(reference, number)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True, mode=0o750)
    (folder / OUTPUTS).mkdir(mode=0o750)
    path = folder / SCRIPT_NAMES[kind]
    path.write_text(script, encoding="utf-8")
    return path


def read_log(reference: str, number: int, *, limit: int = 200_000) -> str:
    """The end of a job's log (the part a page can show), decoded leniently."""
    path = log_path(reference, number)
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, 2)
            handle.seek(max(0, size - limit))
            data = handle.read(limit)
    except FileNotFoundError:
        return ""
    return data.decode("utf-8", errors="replace")


def scratch_folder(reference: str) -> Path:
    """A private, empty folder for one console query's temporary files."""
    folder = workspace_folder(reference) / "tmp" / secrets.token_hex(8)
    folder.mkdir(parents=True, mode=0o700)
    return folder
