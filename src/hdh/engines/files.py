"""Durable, all-or-nothing file writes (ARCHITECTURE rule 8): write beside the
target, fsync, rename, fsync the folder."""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHUNK = 1024 * 1024


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    # Makes a rename durable; some platforms cannot open a folder, which is fine.
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def temporary_sibling(target: Path) -> Path:
    """A hidden name in the target's folder, so the final rename stays on one file system."""
    return target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path; on success it becomes ``target`` atomically.

    Works for a file or a folder. On failure the temporary path is removed and
    ``target`` is untouched.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = temporary_sibling(target)
    try:
        yield temporary
        publish(temporary, target)
    except BaseException:
        remove(temporary)
        raise


def publish(temporary: Path, target: Path) -> None:
    """fsync ``temporary`` (and its files) and rename it to ``target``, which must not exist."""
    if temporary.is_dir():
        for child in temporary.rglob("*"):
            if child.is_file():
                fsync_file(child)
        fsync_dir(temporary)
    else:
        fsync_file(temporary)
    if target.exists():
        raise FileExistsError(f"{target} already exists; versions are never overwritten")
    os.replace(temporary, target)
    fsync_dir(target.parent)


def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
