"""Where the airlock keeps bytes: its own copies of files under review, and released files.

Both live under ``settings.HDH_AIRLOCK``, never under the workspaces: a file
changed in the workspace after it was added does not change what the checkers
see. Copies are content-addressed (``files/<sha[:2]>/<sha>``), written to a
temporary name, fsynced and renamed, so a crash leaves no partial file.
Released files are copied again (``released/<request>/<file>``) and their
checksum is verified each time they are served.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from hdh.airlock.check import Policy, PolicyError
from hdh.core.errors import ValidationFailed

CHUNK = 1024 * 1024


class CorruptFile(Exception):
    """A stored file's bytes no longer match the checksum recorded for them."""


def policy() -> Policy:
    """The platform's disclosure thresholds (``HDH_AIRLOCK_POLICY``, JSON; defaults otherwise)."""
    raw = str(getattr(settings, "HDH_AIRLOCK_POLICY", "") or "").strip()
    if not raw:
        return Policy()
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"HDH_AIRLOCK_POLICY is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ImproperlyConfigured("HDH_AIRLOCK_POLICY must be a JSON object of thresholds")
    try:
        return Policy.from_mapping(data)
    except (PolicyError, TypeError) as exc:
        raise ImproperlyConfigured(f"HDH_AIRLOCK_POLICY: {exc}") from exc


def root() -> Path:
    return Path(settings.HDH_AIRLOCK)


def audit_digest(sha256: str) -> str:
    """A SHA-256 in groups of eight for the audit log: a long run of digits in a
    bare hex digest can look like a national identifier to the log's guard."""
    return "-".join(sha256[i : i + 8] for i in range(0, len(sha256), 8))


def copy_path(sha256: str) -> Path:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a SHA-256 hex digest")
    return root() / "files" / sha256[:2] / sha256


def released_path(request_pk: int, file_pk: int) -> Path:
    return root() / "released" / str(int(request_pk)) / str(int(file_pk))


def workspace_file(relative: str) -> Path:
    """The output file ``relative`` to the workspaces root; refused if it leaves it."""
    base = Path(settings.HDH_WORKSPACES).resolve()
    candidate = base / relative
    if candidate.is_symlink():
        raise ValidationFailed("le fichier de sortie est un lien symbolique")
    resolved = candidate.resolve()
    if not resolved.is_relative_to(base) or not resolved.is_file():
        raise ValidationFailed("le fichier de sortie est introuvable dans l'espace projet")
    return resolved


def _atomic_copy(source: Path, target: Path, *, max_bytes: int) -> tuple[str, int]:
    """Copy ``source`` to ``target`` atomically; its SHA-256 and size."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    try:
        with open(source, "rb") as reader, os.fdopen(descriptor, "wb") as writer:
            while chunk := reader.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise ValidationFailed(
                        f"fichier de plus de {max_bytes // (1024 * 1024)} Mio : trop volumineux "
                        "pour être examiné"
                    )
                digest.update(chunk)
                writer.write(chunk)
            writer.flush()
            os.fsync(writer.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return digest.hexdigest(), size


def take_copy(source: Path, *, max_bytes: int) -> tuple[str, int, Path]:
    """The airlock's own copy of ``source``: (sha256, size, path of the copy)."""
    staging = root() / "staging"
    staging.mkdir(parents=True, exist_ok=True)
    probe = staging / f"copy-{os.getpid()}-{hashlib.sha256(os.urandom(16)).hexdigest()[:16]}"
    sha256, size = _atomic_copy(source, probe, max_bytes=max_bytes)
    target = copy_path(sha256)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(probe, target)
    target.chmod(0o440)
    return sha256, size, target


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as reader:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def read_verified(path: Path, sha256: str) -> bytes:
    """The bytes at ``path`` if they still match ``sha256``; :class:`CorruptFile` otherwise."""
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise CorruptFile(path.name)
    return data


def release_copy(sha256: str, request_pk: int, file_pk: int) -> Path:
    """Copy a reviewed file into the release store, verifying the bytes on the way."""
    source = copy_path(sha256)
    target = released_path(request_pk, file_pk)
    copied, _size = _atomic_copy(source, target, max_bytes=2**62)
    if copied != sha256:
        target.unlink(missing_ok=True)
        raise CorruptFile(source.name)
    target.chmod(0o440)
    return target
