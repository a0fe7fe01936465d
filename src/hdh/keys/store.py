"""The file key store: versioned master secrets, outside the lake and the database.

Layout under ``HDH_KEY_STORE`` (directory 0700, files 0600)::

    level1/v0001.key      the pseudonymisation service's secret (32 random bytes, hex)
    projects/v0001.key    the master from which every project key is derived

A new version is added by ``rotate``; old versions stay so that data made under
them can still be re-derived. Only fingerprints are ever shown or logged.
Losing the store loses pseudonym continuity: back it up apart from the lake.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from hdh.core.errors import HdhError

SECRETS = ("level1", "projects")
KEY_BYTES = 32
_VERSION_FILE = re.compile(r"^v([0-9]{4,})\.key$")
_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class KeyStoreError(HdhError):
    """The key store is missing, unsafe or incomplete."""


@dataclass(frozen=True)
class KeyInfo:
    secret: str
    version: int
    fingerprint: str


def fingerprint(key: bytes) -> str:
    """A short public name for a key (never the key)."""
    return hashlib.sha256(b"hdh-key-fingerprint|" + key).hexdigest()[:16]


def derive_project_key(master: bytes, reference: str, version: int) -> bytes:
    """HKDF-SHA-256(projects master, info = "hdh-project|<reference>|<version>")."""
    if not isinstance(reference, str) or not _REFERENCE.match(reference):
        raise ValueError("a project reference is 1-64 letters, digits, '_', '.' or '-'")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError("a key version is a positive integer")
    info = b"hdh-project|" + reference.encode("ascii") + b"|" + str(version).encode("ascii")
    return hkdf_sha256(master, info=info, length=KEY_BYTES)


def hkdf_sha256(ikm: bytes, *, info: bytes, length: int, salt: bytes = b"") -> bytes:
    """RFC 5869 HKDF with SHA-256 (extract, then expand)."""
    if length > 255 * 32:
        raise ValueError("HKDF-SHA-256 gives at most 8160 bytes")
    prk = hmac.new(salt or b"\0" * 32, ikm, hashlib.sha256).digest()
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


class KeyStore:
    def __init__(self, path: Path, *, lake: Path | None = None) -> None:
        self.path = Path(path)
        self.lake = Path(lake) if lake is not None else None

    # --- checks ------------------------------------------------------------------
    def problems(self) -> list[str]:
        """What makes this store unusable or unsafe (empty when fine)."""
        found: list[str] = []
        if self.lake is not None and _inside(self.path, self.lake):
            found.append(f"the key store {self.path} is inside the lake {self.lake}")
        if not self.path.is_dir():
            return [*found, f"no key store at {self.path}: run `hdh keys init`"]
        if stat.S_IMODE(self.path.stat().st_mode) & 0o077:
            found.append(f"{self.path} is readable by others: chmod 700 it")
        for secret in SECRETS:
            folder = self.path / secret
            versions = self._versions(secret)
            if not versions:
                found.append(f"no {secret} secret in {self.path}: run `hdh keys init`")
                continue
            if stat.S_IMODE(folder.stat().st_mode) & 0o077:
                found.append(f"{folder} is readable by others: chmod 700 it")
            for version in versions:
                key_file = self._file(secret, version)
                if stat.S_IMODE(key_file.stat().st_mode) & 0o077:
                    found.append(f"{key_file} is readable by others: chmod 600 it")
        return found

    def check(self) -> None:
        found = self.problems()
        if found:
            raise KeyStoreError("; ".join(found))

    # --- writes ------------------------------------------------------------------
    def init(self) -> list[KeyInfo]:
        """Create the store and a first version of each secret (existing ones are kept)."""
        if self.lake is not None and _inside(self.path, self.lake):
            raise KeyStoreError(f"the key store {self.path} must not be inside the lake")
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.path, 0o700)
        for secret in SECRETS:
            if not self._versions(secret):
                self._add(secret)
        return self.status()

    def rotate(self, secret: str) -> KeyInfo:
        """Add a new version of ``secret``; it becomes the current one."""
        if secret not in SECRETS:
            raise KeyStoreError(f"unknown secret {secret!r}: one of {', '.join(SECRETS)}")
        self.check()
        return self._add(secret)

    def _add(self, secret: str) -> KeyInfo:
        folder = self.path / secret
        folder.mkdir(mode=0o700, exist_ok=True)
        os.chmod(folder, 0o700)
        version = max(self._versions(secret), default=0) + 1
        key = secrets.token_bytes(KEY_BYTES)
        target = self._file(secret, version)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key.hex() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return KeyInfo(secret, version, fingerprint(key))

    # --- reads -------------------------------------------------------------------
    def _file(self, secret: str, version: int) -> Path:
        return self.path / secret / f"v{version:04d}.key"

    def _versions(self, secret: str) -> list[int]:
        folder = self.path / secret
        if not folder.is_dir():
            return []
        found = (_VERSION_FILE.match(entry.name) for entry in folder.iterdir())
        return sorted(int(match.group(1)) for match in found if match)

    def current_version(self, secret: str) -> int:
        versions = self._versions(secret)
        if not versions:
            raise KeyStoreError(f"no {secret} secret in {self.path}: run `hdh keys init`")
        return versions[-1]

    def master(self, secret: str, version: int | None = None) -> tuple[int, bytes]:
        """(version, key) of ``secret`` — the current version unless one is named."""
        if secret not in SECRETS:
            raise KeyStoreError(f"unknown secret {secret!r}")
        self.check()
        version = self.current_version(secret) if version is None else version
        key_file = self._file(secret, version)
        if not key_file.exists():
            raise KeyStoreError(f"{secret} version {version} is not in the key store")
        key = bytes.fromhex(key_file.read_text(encoding="ascii").strip())
        if len(key) != KEY_BYTES:
            raise KeyStoreError(f"{key_file.name} of {secret} is damaged")
        return version, key

    def level1_key(self, version: int | None = None) -> tuple[int, bytes]:
        return self.master("level1", version)

    def project_key(
        self, reference: str, version: int, *, master_version: int | None = None
    ) -> bytes:
        """The key of a project's ``version``, derived from the projects master."""
        _, master = self.master("projects", master_version)
        return derive_project_key(master, reference, version)

    def status(self) -> list[KeyInfo]:
        infos = []
        for secret in SECRETS:
            for version in self._versions(secret):
                key = bytes.fromhex(self._file(secret, version).read_text("ascii").strip())
                infos.append(KeyInfo(secret, version, fingerprint(key)))
        return infos


def _inside(path: Path, folder: Path) -> bool:
    path, folder = path.resolve(), folder.resolve()
    return path == folder or folder in path.parents


def default_store() -> KeyStore:
    """The store named by ``HDH_KEY_STORE``; created on first use in embedded mode."""
    from django.conf import settings

    store = KeyStore(Path(settings.HDH_KEY_STORE), lake=Path(settings.HDH_LAKE))
    if getattr(settings, "PRODUCTION", False):
        # Production never creates secrets on the fly: an operator runs `hdh keys init`.
        store.check()
    elif not store.path.exists():
        store.init()
    return store
