"""Backups of a whole platform (docs/adr/0015); their restore is in ``restore.py``.

A backup is one folder (or a ``.tar`` of that folder)::

    manifest.json           what the backup holds and the SHA-256 of every other file
    database/hdh.sqlite3    SQLite: a copy made with SQLite's online backup API
    database/hdh.pgdump     PostgreSQL: ``pg_dump --format=custom`` of an exported snapshot
    lake/<path>/...         the dataset versions and project datasets the database references
    media/, workspaces/, airlock/   those folders, copied whole when they exist
    audit-anchor.jsonl      the audit log's anchor file
    key-store.json          the key store's metadata: versions, fingerprints, dates (never a key)

The database snapshot is taken first and everything else is read from it: the
audit head, the migration state and the list of lake folders to copy. A lake
folder written after the snapshot is not referenced by it, so a restored
database never references a missing dataset.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess  # nosec B404
import tarfile
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.db import connections, transaction

import hdh
from hdh.audit import services as audit
from hdh.audit.models import AuditEvent, AuditSeal
from hdh.core import clock, lake
from hdh.core.errors import HdhError
from hdh.engines import files
from hdh.keys.store import KeyStore, fingerprint
from hdh.lake.models import DatasetVersion
from hdh.preparation.models import ProjectDataset

FORMAT = "hdh.backup/1"
MANIFEST = "manifest.json"
KEY_STORE_METADATA = "key-store.json"
ANCHOR = "audit-anchor.jsonl"
SQLITE_DUMP = "database/hdh.sqlite3"
POSTGRES_DUMP = "database/hdh.pgdump"
LAKE = "lake"
# Folders copied whole, each restored under the new home with its default name.
WHOLE_FOLDERS = ("media", "workspaces", "airlock")


class BackupError(HdhError):
    """The backup or the restore cannot go on; the message names the cause."""


Say = Callable[[str], None]


def _quiet(message: str) -> None:
    return


def secret_fingerprint(value: str) -> str:
    """A public name for the Django secret (never the secret)."""
    return fingerprint(b"django-secret-key|" + value.encode("utf-8"))


# --- small file helpers ---------------------------------------------------------------------
def private_dir(path: Path) -> None:
    """Create ``path`` and any missing parent owner-only (0700); existing ones are left as
    they are (an operator's folder keeps its mode)."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=0o700)
        os.chmod(folder, 0o700)


def copy_file(source: Path, target: Path) -> None:
    """Copy the bytes only (never the source's mode): backups hold personal data."""
    private_dir(target.parent)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out, source.open("rb") as src:
        shutil.copyfileobj(src, out, files.CHUNK)
        out.flush()
        os.fsync(out.fileno())


def _write_private(target: Path, text: str) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())


def safe_relative(value: str) -> PurePosixPath:
    """A relative path that stays inside its folder, or BackupError."""
    path = PurePosixPath(value)
    if (
        not value
        or path.is_absolute()
        or any(part in ("", ".", "..") for part in path.parts)
        or "\\" in value
        or "\x00" in value
    ):
        raise BackupError(f"unsafe path in the backup: {value!r}")
    return path


def walk_files(root: Path) -> Iterator[tuple[Path, list[Path]]]:
    """(regular file, skipped entries) pairs under ``root``, never following a link."""
    for folder, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(folder)
        dirnames.sort()
        skipped = [here / name for name in dirnames if (here / name).is_symlink()]
        dirnames[:] = [name for name in dirnames if not (here / name).is_symlink()]
        for name in sorted(filenames):
            path = here / name
            if path.is_symlink() or not path.is_file():
                skipped.append(path)
                continue
            yield path, []
        if skipped:
            yield here, skipped


# --- the database snapshot ------------------------------------------------------------------
def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


Query = Callable[[str], list[tuple[Any, ...]]]


def _facts(query: Query) -> dict[str, Any]:
    """What the snapshot says: audit head, migrations and the lake folders it references."""
    events = _q(AuditEvent._meta.db_table)
    head = query(f"SELECT seq, hash FROM {events} ORDER BY seq DESC LIMIT 1")  # noqa: S608
    return {
        "audit": {
            "head_seq": int(head[0][0]) if head else 0,
            "head_hash": str(head[0][1]) if head else "",
            "events": int(query(f"SELECT COUNT(*) FROM {events}")[0][0]),  # noqa: S608
            "seals": int(
                query(f"SELECT COUNT(*) FROM {_q(AuditSeal._meta.db_table)}")[0][0]  # noqa: S608
            ),
        },
        "migrations": sorted(
            f"{app}.{name}" for app, name in query('SELECT app, name FROM "django_migrations"')
        ),
        "lake_versions": [
            {"path": str(path), "manifest_sha256": str(sha)}
            for path, sha in query(
                f"SELECT path, manifest_sha256 FROM {_q(DatasetVersion._meta.db_table)} "  # noqa: S608
                "ORDER BY path"
            )
        ],
        "project_datasets": [
            {"path": str(path), "manifest_sha256": str(sha)}
            for path, sha in query(
                f"SELECT path, manifest_sha256 FROM {_q(ProjectDataset._meta.db_table)} "  # noqa: S608
                "ORDER BY path"
            )
        ],
    }


def _snapshot_sqlite(target: Path) -> dict[str, Any]:
    connection = connections["default"]
    connection.ensure_connection()
    source = connection.connection
    private_dir(target.parent)
    copy = sqlite3.connect(target)
    try:
        # One step (pages=-1): the whole file is copied inside one read transaction,
        # so the copy is one consistent state of the database.
        source.backup(copy)
        # The copy is one self-contained file (no -wal beside it).
        copy.execute("PRAGMA journal_mode=DELETE")
        os.chmod(target, 0o600)
        return _facts(lambda sql: list(copy.execute(sql).fetchall()))
    finally:
        copy.close()


def pg_environment(params: dict[str, Any]) -> dict[str, str]:
    """libpq's variables for a connection: the password never goes on a command line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    for key in ("NAME", "USER", "PASSWORD", "HOST", "PORT"):
        if params.get(key):
            env["PG" + ("DATABASE" if key == "NAME" else key)] = str(params[key])
    if (params.get("OPTIONS") or {}).get("sslmode"):
        env["PGSSLMODE"] = str(params["OPTIONS"]["sslmode"])
    return env


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed: it is needed for a PostgreSQL database")
    return path


def run_tool(command: Sequence[str], env: dict[str, str], what: str) -> None:
    # A fixed argument list, no shell.
    result = subprocess.run(  # noqa: S603  # nosec B603
        list(command), env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BackupError(f"{what} failed: {result.stderr.strip()[-2000:]}")


def _snapshot_postgres(target: Path) -> dict[str, Any]:
    default = connections["default"]
    params = dict(default.settings_dict)
    own = type(default)(params, "hdh-backup")
    own.ensure_connection()
    raw = own.connection
    try:
        raw.autocommit = True
        # An exported snapshot: pg_dump and the queries below see the same state.
        raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = raw.execute("SELECT pg_export_snapshot()").fetchone()[0]
        facts = _facts(lambda sql: list(raw.execute(sql).fetchall()))
        private_dir(target.parent)
        run_tool(
            [
                tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--snapshot={snapshot}",
                f"--file={target}",
            ],
            pg_environment(params),
            "pg_dump",
        )
        os.chmod(target, 0o600)
        raw.execute("COMMIT")
        return facts
    finally:
        own.close()


# --- key store metadata ---------------------------------------------------------------------
def key_store_metadata(path: Path) -> dict[str, Any]:
    """Versions, fingerprints and creation dates of a key store — never a key."""
    store = KeyStore(path)
    if not store.path.is_dir():
        return {"present": False, "keys": []}
    keys = []
    for info in store.status():
        created = dt.datetime.fromtimestamp(
            store._file(info.secret, info.version).stat().st_mtime, tz=dt.UTC
        )
        keys.append(
            {
                "secret": info.secret,
                "version": info.version,
                "fingerprint": info.fingerprint,
                "created": created.isoformat(timespec="seconds"),
            }
        )
    return {"present": True, "keys": keys}


# --- writing a backup -----------------------------------------------------------------------
@dataclass
class _Copy:
    root: Path
    files: dict[str, Path] = field(default_factory=dict)
    damaged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _copy_lake_folder(copy: _Copy, lake_root: Path, entry: dict[str, str], kind: str) -> None:
    """Copy a manifest and the files it lists; note what does not match."""
    relative = safe_relative(entry["path"])
    source = lake_root.joinpath(*relative.parts)
    target = copy.root / LAKE / relative
    manifest_file = source / "manifest.json"
    if not manifest_file.is_file():
        copy.damaged.append(f"{kind} {relative}: manifest.json missing")
        return
    copy_file(manifest_file, target / "manifest.json")
    if files.sha256_of(target / "manifest.json") != entry["manifest_sha256"]:
        copy.damaged.append(f"{kind} {relative}: manifest.json differs from the database")
    try:
        manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
        listed = manifest.get("files") or manifest.get("tables") or []
        wanted = [(str(item["path"]), str(item["sha256"])) for item in listed]
    except (ValueError, KeyError, TypeError, AttributeError):
        copy.damaged.append(f"{kind} {relative}: manifest.json unreadable")
        return
    for name, sha in wanted:
        inner = safe_relative(name)
        data = source.joinpath(*inner.parts)
        if not data.is_file():
            copy.damaged.append(f"{kind} {relative}: {inner} missing")
            continue
        copy_file(data, target / inner)
        if files.sha256_of(target / inner) != sha:
            copy.damaged.append(f"{kind} {relative}: {inner} differs from its manifest")


def _copy_whole(copy: _Copy, source: Path, name: str) -> None:
    if not source.is_dir():
        return
    for path, skipped in walk_files(source):
        for entry in skipped:
            copy.skipped.append(f"{name}/{entry.relative_to(source)}")
        if not skipped:
            copy_file(path, copy.root / name / path.relative_to(source))


def _listing(root: Path) -> list[dict[str, Any]]:
    listing = []
    for path, skipped in walk_files(root):
        if skipped:
            raise BackupError(f"unexpected link or special file in the backup: {skipped[0]}")
        relative = path.relative_to(root).as_posix()
        if relative == MANIFEST:
            continue
        listing.append(
            {"path": relative, "bytes": path.stat().st_size, "sha256": files.sha256_of(path)}
        )
    return listing


def create(destination: Path, *, say: Say = _quiet) -> dict[str, Any]:
    """Write a backup of the platform to ``destination`` (a new folder, or a ``.tar``)."""
    destination = Path(destination).absolute()
    if destination.exists() or destination.is_symlink():
        raise BackupError(f"{destination} already exists: a backup never overwrites")
    if not destination.parent.is_dir():
        raise BackupError(f"{destination.parent} is not a folder")
    as_tar = destination.suffix == ".tar"
    work = destination.parent / f".{destination.name}.{uuid.uuid4().hex}.partial"
    private_dir(work)
    try:
        with transaction.atomic():
            audit.record(action="backup.created", details={"format": FORMAT})
        copy = _Copy(work)
        # The anchor first: it only grows, after each seal's commit, so this copy
        # holds no seal the snapshot below lacks (a later seal is only a warning).
        anchor = Path(settings.HDH_AUDIT_ANCHOR)
        if anchor.is_file():
            copy_file(anchor, work / ANCHOR)
        vendor = connections["default"].vendor
        say(f"database snapshot ({vendor})")
        if vendor == "sqlite":
            dump = SQLITE_DUMP
            facts = _snapshot_sqlite(work / dump)
        elif vendor == "postgresql":
            dump = POSTGRES_DUMP
            facts = _snapshot_postgres(work / dump)
        else:
            raise BackupError(f"no backup for a {vendor} database")
        lake_root = lake.root()
        say(
            f"lake: {len(facts['lake_versions'])} dataset versions, "
            f"{len(facts['project_datasets'])} project datasets"
        )
        for entry in facts["lake_versions"]:
            _copy_lake_folder(copy, lake_root, entry, "dataset version")
        for entry in facts["project_datasets"]:
            _copy_lake_folder(copy, lake_root, entry, "project dataset")
        places = {
            "media": Path(settings.MEDIA_ROOT),
            "workspaces": Path(
                getattr(settings, "HDH_WORKSPACES", Path(settings.HDH_HOME) / "workspaces")
            ),
            "airlock": Path(getattr(settings, "HDH_AIRLOCK", Path(settings.HDH_HOME) / "airlock")),
        }
        for name, place in places.items():
            say(f"{name}: {'copied' if place.is_dir() else 'absent'}")
            _copy_whole(copy, place, name)
        key_store = key_store_metadata(Path(settings.HDH_KEY_STORE))
        _write_private(work / KEY_STORE_METADATA, json.dumps(key_store, indent=2, sort_keys=True))
        manifest = {
            "format": FORMAT,
            "created_at": clock.now().astimezone(dt.UTC).isoformat(timespec="seconds"),
            "hdh_version": hdh.__version__,
            "database": {"vendor": vendor, "dump": dump},
            "migrations": facts["migrations"],
            "audit": facts["audit"],
            "anchor": ANCHOR if (work / ANCHOR).exists() else None,
            "lake": {
                "versions": facts["lake_versions"],
                "project_datasets": facts["project_datasets"],
            },
            "folders": [name for name in WHOLE_FOLDERS if (work / name).is_dir()],
            "key_store": {
                "file": KEY_STORE_METADATA,
                "present": key_store["present"],
                "versions": len(key_store["keys"]),
            },
            "secret_key_fingerprint": secret_fingerprint(settings.SECRET_KEY),
            "damaged": copy.damaged,
            "skipped": copy.skipped,
            "files": _listing(work),
        }
        _write_private(work / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True))
        manifest["manifest_sha256"] = files.sha256_of(work / MANIFEST)
        if as_tar:
            partial = files.temporary_sibling(destination)
            with tarfile.open(partial, "w") as archive:
                for path in sorted(work.rglob("*")):
                    archive.add(path, arcname=path.relative_to(work).as_posix(), recursive=False)
            os.chmod(partial, 0o600)
            files.publish(partial, destination)
            shutil.rmtree(work)
        else:
            files.publish(work, destination)
    except BaseException:
        files.remove(work)
        raise
    return manifest


# --- reading and checking a backup ----------------------------------------------------------
@contextmanager
def opened(source: Path, scratch: Path) -> Iterator[Path]:
    """The backup's root folder: ``source`` itself, or a ``.tar`` unpacked into ``scratch``."""
    source = Path(source)
    if source.is_dir():
        yield source
        return
    if not source.is_file() or not tarfile.is_tarfile(source):
        raise BackupError(f"{source} is neither a backup folder nor a .tar backup")
    folder = Path(tempfile.mkdtemp(prefix=".hdh-restore-", dir=scratch))
    try:
        with tarfile.open(source) as archive:
            for member in archive.getmembers():
                safe_relative(member.name)
                if not (member.isfile() or member.isdir()):
                    raise BackupError(f"unexpected link or special file in the backup: {member}")
            # "data": no absolute paths, links out, devices or set-uid bits.
            archive.extractall(folder, filter="data")
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def read_manifest(root: Path) -> dict[str, Any]:
    path = root / MANIFEST
    if not path.is_file():
        raise BackupError(f"{root} holds no {MANIFEST}: not an hdh backup")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise BackupError(f"{MANIFEST} is not valid JSON: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{MANIFEST}: unknown format (expected {FORMAT})")
    for key in ("files", "database", "audit", "lake"):
        if key not in manifest:
            raise BackupError(f"{MANIFEST}: {key!r} is missing")
    return manifest


def check_files(root: Path, manifest: dict[str, Any]) -> list[str]:
    """Every file the manifest lists, with its size and SHA-256; nothing else."""
    problems = []
    listed = set()
    for entry in manifest["files"]:
        try:
            relative = safe_relative(str(entry["path"]))
            size, sha = int(entry["bytes"]), str(entry["sha256"])
        except (KeyError, TypeError, ValueError) as exc:
            raise BackupError(f"{MANIFEST}: malformed file entry {entry!r:.120}") from exc
        listed.add(relative.as_posix())
        path = root.joinpath(*relative.parts)
        if path.is_symlink() or not path.is_file():
            problems.append(f"{relative}: missing")
        elif path.stat().st_size != size:
            problems.append(f"{relative}: size differs from the manifest (truncated or altered)")
        elif files.sha256_of(path) != sha:
            problems.append(f"{relative}: checksum differs from the manifest")
    for path, skipped in walk_files(root):
        for entry in skipped:
            problems.append(f"{entry.relative_to(root)}: unexpected link or special file")
        name = path.relative_to(root).as_posix()
        if not skipped and name != MANIFEST and name not in listed:
            problems.append(f"{name}: not listed in the manifest")
    dump = str(manifest["database"].get("dump", ""))
    if dump not in listed:
        problems.append(f"{dump or 'database dump'}: missing")
    return problems
