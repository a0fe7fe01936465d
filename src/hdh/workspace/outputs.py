"""The files a job left in its outputs folder: what may be kept, with checksums.

Symbolic links, hard links, special files, setuid files and unsafe names are
skipped with a reason (in French, for the page); so is everything beyond the
caps. No Django here (see ``sandbox``).
"""

from __future__ import annotations

import hashlib
import os
import stat
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MAX_OUTPUT_FILES = 1000
MAX_OUTPUT_BYTES = 4 * 1024**3
MAX_OUTPUT_NAME = 255
MAX_OUTPUT_DEPTH = 5


@dataclass(frozen=True)
class OutputFile:
    name: str  # relative to the outputs folder, "/"-separated
    path: Path
    size: int
    sha256: str


def name_problem(name: str) -> str | None:
    """Why ``name`` is not a safe relative output name, or None."""
    if not name:
        return "nom vide"
    if len(name) > MAX_OUTPUT_NAME:
        return f"nom de plus de {MAX_OUTPUT_NAME} caractères"
    if "\x00" in name:
        return "caractère nul dans le nom"
    if name.startswith("/") or "\\" in name:
        return "chemin absolu ou séparateur « \\ »"
    parts = name.split("/")
    if len(parts) > MAX_OUTPUT_DEPTH:
        return f"plus de {MAX_OUTPUT_DEPTH} niveaux de dossiers"
    if any(part in ("", ".", "..") for part in parts):
        return "composant « . », « .. » ou vide"
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in name):
        return "caractère de contrôle ou octet invalide dans le nom"
    return None


def collect_outputs(
    outputs: Path,
    *,
    max_files: int = MAX_OUTPUT_FILES,
    max_total_bytes: int = MAX_OUTPUT_BYTES,
) -> tuple[list[OutputFile], list[str]]:
    """The regular files a job left in ``outputs``, with what was skipped and why (French).

    Symbolic links, hard links (a file with more than one name), special files
    and unsafe names are skipped, as is everything beyond the caps. Run it once
    every process of the job has ended.
    """
    files: list[OutputFile] = []
    problems: list[str] = []
    total = 0
    for name, path, info in _walk(outputs, problems):
        if len(files) >= max_files:
            problems.append(f"{printable(name)} : au-delà de {max_files} fichiers, ignoré")
            continue
        if total + info.st_size > max_total_bytes:
            problems.append(
                f"{printable(name)} : au-delà de {mib(max_total_bytes)} au total, ignoré"
            )
            continue
        digest = _sha256(path, info)
        if digest is None:
            problems.append(f"{printable(name)} : modifié pendant la lecture, ignoré")
            continue
        total += info.st_size
        files.append(OutputFile(name=name, path=path, size=info.st_size, sha256=digest))
    return files, problems


def _walk(
    root: Path, problems: list[str], prefix: str = ""
) -> Iterator[tuple[str, Path, os.stat_result]]:
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        problems.append(f"{printable(prefix) or '.'} : dossier illisible, ignoré")
        return
    for entry in entries:
        name = f"{prefix}{entry.name}"
        shown = printable(name)
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            problems.append(f"{shown} : illisible, ignoré")
            continue
        reason = name_problem(name)
        if stat.S_ISLNK(info.st_mode):
            problems.append(f"{shown} : lien symbolique, ignoré")
        elif reason is not None:
            problems.append(f"{shown} : {reason}, ignoré")
        elif stat.S_ISDIR(info.st_mode):
            yield from _walk(Path(entry.path), problems, f"{name}/")
        elif not stat.S_ISREG(info.st_mode):
            problems.append(f"{shown} : fichier spécial, ignoré")
        elif info.st_mode & (stat.S_ISUID | stat.S_ISGID):
            problems.append(f"{shown} : droits setuid ou setgid, ignoré")
        elif info.st_nlink > 1:
            problems.append(f"{shown} : lien physique vers un autre fichier, ignoré")
        else:
            yield name, Path(entry.path), info


def _sha256(path: Path, info: os.stat_result) -> str | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        now = os.fstat(handle.fileno())
        if (now.st_ino, now.st_dev, now.st_size) != (info.st_ino, info.st_dev, info.st_size):
            return None
        digest = hashlib.sha256()
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def printable(text: str) -> str:
    shown = "".join(
        c if unicodedata.category(c) not in ("Cc", "Cs") else f"\\x{ord(c) & 0xFF:02x}"
        for c in text
    )
    return shown if len(shown) <= 120 else shown[:117] + "…"


def mib(size: int) -> str:
    return f"{size // 1024**2} Mio"
