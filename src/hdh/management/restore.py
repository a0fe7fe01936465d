"""Restoring a backup into a new home, and the restore drill (docs/adr/0015).

The drill runs on the restored platform, in a new ``hdh`` process configured for
it: the audit log verifies and still holds the backup's head, every dataset
version and project dataset matches its manifest, and, given the restored key
store, its fingerprints match the backup's and every project key re-derives.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess  # nosec B404
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dj_database_url
from django.conf import settings
from django.db import connections, transaction

from hdh.audit import services as audit
from hdh.audit.models import AuditEvent
from hdh.core import lake
from hdh.engines import files
from hdh.keys.store import KeyStore, derive_project_key, fingerprint
from hdh.lake import storage as lake_storage
from hdh.lake.models import DatasetVersion
from hdh.management.backup import (
    ANCHOR,
    KEY_STORE_METADATA,
    LAKE,
    POSTGRES_DUMP,
    SQLITE_DUMP,
    WHOLE_FOLDERS,
    BackupError,
    copy_file,
    pg_environment,
    private_dir,
    read_manifest,
    run_tool,
    safe_relative,
    secret_fingerprint,
    tool,
    walk_files,
)
from hdh.preparation.models import ProjectDataset, ProjectKey
from hdh.preparation.services import verify_dataset

# What `hdh` itself creates in an empty HDH_HOME when it starts (embedded mode):
# a restore target holding only these is still "empty".
STARTUP_ENTRIES = {"secret_key", "static"}
# Settings naming a place on disk: a restore's drill runs with none of them, so
# that every folder is the restored home's default.
PLACE_SETTINGS = (
    "HDH_LAKE",
    "HDH_WORKSPACES",
    "HDH_AIRLOCK",
    "HDH_AUDIT_ANCHOR",
    "HDH_KEY_STORE",
    "DATABASE_URL",
    "HDH_TEST_DATABASE_NAME",
)
POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql"}


# --- restoring ------------------------------------------------------------------------------
def _is_empty_home(home: Path) -> bool:
    if not home.exists():
        return True
    if not home.is_dir():
        return False
    for entry in home.iterdir():
        if entry.name not in STARTUP_ENTRIES:
            return False
        if entry.is_dir() and any(entry.iterdir()):
            return False
    return True


def _postgres_params(url: str) -> dict[str, Any]:
    return dict(dj_database_url.parse(url))


def _postgres_is_empty(params: dict[str, Any]) -> bool:
    import psycopg

    kwargs = {
        "dbname": params.get("NAME"),
        "user": params.get("USER") or None,
        "password": params.get("PASSWORD") or None,
        "host": params.get("HOST") or None,
        "port": params.get("PORT") or None,
    }
    try:
        with psycopg.connect(**{k: v for k, v in kwargs.items() if v}, connect_timeout=10) as db:
            row = db.execute(
                "SELECT COUNT(*) FROM information_schema.tables "
                "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
            ).fetchone()
    except psycopg.Error as exc:
        raise BackupError(f"cannot reach the target database: {exc}".strip()) from exc
    return bool(row and row[0] == 0)


@dataclass
class Target:
    home: Path
    database_url: str | None
    vendor: str
    sqlite_file: Path | None


def plan_target(home: Path, database_url: str | None, vendor: str) -> Target:
    """Where a backup of ``vendor`` goes; refuse a target that is not empty."""
    home = Path(home).absolute()
    if not _is_empty_home(home):
        raise BackupError(f"{home} is not empty: restore into a new, empty folder")
    scheme = (database_url or "").split(":", 1)[0].lower()
    if vendor == "sqlite":
        if database_url and scheme != "sqlite":
            raise BackupError("this backup holds a SQLite database: give a sqlite:/// URL or none")
        sqlite_file = (
            Path(_postgres_params(database_url)["NAME"]) if database_url else home / "hdh.sqlite3"
        )
        if sqlite_file.exists() and sqlite_file.stat().st_size > 0:
            raise BackupError(f"{sqlite_file} already exists: restore into a new database")
        return Target(home, database_url, vendor, sqlite_file.absolute())
    if vendor == "postgresql":
        if scheme not in POSTGRES_SCHEMES:
            raise BackupError(
                "this backup holds a PostgreSQL database: give --database-url "
                "postgres://USER@HOST:PORT/NAME of a new, empty database"
            )
        if not _postgres_is_empty(_postgres_params(str(database_url))):
            raise BackupError("the target database is not empty: restore into a new database")
        return Target(home, database_url, vendor, None)
    raise BackupError(f"unknown database vendor in the backup: {vendor!r}")


def _restore_database(root: Path, manifest: dict[str, Any], target: Target) -> None:
    dump = root.joinpath(*safe_relative(str(manifest["database"]["dump"])).parts)
    if target.vendor == "sqlite":
        assert target.sqlite_file is not None
        private_dir(target.sqlite_file.parent)
        target.sqlite_file.unlink(missing_ok=True)
        copy_file(dump, target.sqlite_file)
        try:
            check = sqlite3.connect(target.sqlite_file)
            try:
                result = check.execute("PRAGMA integrity_check").fetchall()
            finally:
                check.close()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{SQLITE_DUMP}: not a readable SQLite database ({exc})") from exc
        if result != [("ok",)]:
            raise BackupError(f"{SQLITE_DUMP}: damaged database ({result[0][0]})")
        return
    run_tool(
        [
            tool("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={_postgres_params(str(target.database_url))['NAME']}",
            str(dump),
        ],
        pg_environment(_postgres_params(str(target.database_url))),
        f"restoring {POSTGRES_DUMP}",
    )


def restore_files(root: Path, manifest: dict[str, Any], target: Target) -> None:
    """Put the backup's folders and database in place (the backup was checked first)."""
    private_dir(target.home)
    for name in (LAKE, *WHOLE_FOLDERS):
        source = root / name
        if source.is_dir():
            for path, _skipped in walk_files(source):
                copy_file(path, target.home / name / path.relative_to(source))
    if (root / ANCHOR).is_file():
        copy_file(root / ANCHOR, target.home / ANCHOR)
    _restore_database(root, manifest, target)
    with files.atomic_path(target.home / "restored-from.json") as temporary:
        temporary.write_text(
            json.dumps(
                {k: manifest[k] for k in ("format", "created_at", "hdh_version", "audit")},
                indent=2,
                sort_keys=True,
            ),
            encoding="utf-8",
        )


def drill_environment(target: Target, key_store: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PLACE_SETTINGS}
    env["HDH_HOME"] = str(target.home)
    if target.database_url:
        env["DATABASE_URL"] = target.database_url
    if key_store is not None:
        env["HDH_KEY_STORE"] = str(Path(key_store).absolute())
    return env


def run_drill_elsewhere(
    root: Path, target: Target, key_store: Path | None
) -> tuple[int, dict[str, Any], str]:
    """Run ``hdh restore --drill`` as a new process on the restored platform."""
    command = [sys.executable, "-m", "hdh.cli", "restore", str(root), "--drill", "--json"]
    command.append("--after-restore")
    if key_store is not None:
        command += ["--key-store", str(Path(key_store).absolute())]
    # A fixed argument list, no shell.
    result = subprocess.run(  # noqa: S603  # nosec B603
        command,
        env=drill_environment(target, key_store),
        cwd=target.home,
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        report = json.loads(result.stdout[result.stdout.index("{") :])
    except ValueError:
        report = {}
    return result.returncode, report, result.stderr


# --- the drill (runs on the restored platform) ----------------------------------------------
@dataclass
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class Drill:
    checks: list[Check] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def add(self, name: str, problems: list[str], ok_detail: str) -> None:
        self.checks.append(
            Check(name, not problems, "; ".join(problems[:5]) if problems else ok_detail)
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checks": [check.__dict__ for check in self.checks],
            "warnings": self.warnings,
        }


def _applied_migrations() -> tuple[list[str], int]:
    from django.db.migrations.executor import MigrationExecutor
    from django.db.migrations.recorder import MigrationRecorder

    # The table's rows, as the backup read them (the loader adds squashed names).
    recorded = MigrationRecorder(connections["default"]).applied_migrations()
    applied = sorted(f"{app}.{name}" for app, name in recorded)
    executor = MigrationExecutor(connections["default"])
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return applied, len(pending)


def _check_audit(drill: Drill, manifest: dict[str, Any]) -> None:
    from hdh.audit.verify import verify

    report = verify()
    for warning in report.warnings:
        drill.warnings.append(f"audit: {warning}")
    if not report.ok:
        problem = report.first_problem
        assert problem is not None
        drill.add("audit log", [f"NOT intact: {problem.message}"], "")
        return
    head_seq, head_hash = int(manifest["audit"]["head_seq"]), str(manifest["audit"]["head_hash"])
    problems = []
    if head_seq:
        found = AuditEvent.objects.filter(seq=head_seq).values_list("hash", flat=True).first()
        if found is None:
            problems.append(
                f"the backup's head #{head_seq} is not in the database (log ends at "
                f"#{report.head_seq}): the dump was truncated"
            )
        elif found != head_hash:
            problems.append(f"event #{head_seq} differs from the backup's head")
    drill.add(
        "audit log",
        problems,
        f"intact: {report.events_checked} events, {report.seals_checked} seals, "
        f"head #{report.head_seq}, backup head #{head_seq} found",
    )


def _check_lake(drill: Drill, manifest: dict[str, Any]) -> None:
    problems = []
    versions = list(DatasetVersion.objects.order_by("path"))
    for version in versions:
        folder = lake.root() / version.path
        manifest_file = folder / lake_storage.MANIFEST
        if not manifest_file.is_file():
            problems.append(f"{version.path}: manifest.json missing")
            continue
        if files.sha256_of(manifest_file) != version.manifest_sha256:
            problems.append(f"{version.path}/manifest.json: checksum differs")
        problems += [f"{version.path}/{p}" for p in lake_storage.verify(folder)]
    expected = {entry["path"] for entry in manifest["lake"]["versions"]}
    if expected != {version.path for version in versions}:
        problems.append("the database's dataset versions differ from the backup's list")
    drill.add("dataset versions", problems, f"{len(versions)} verified against their manifests")
    problems = []
    datasets = list(ProjectDataset.objects.order_by("path"))
    for dataset in datasets:
        if not (lake.root() / dataset.path / "manifest.json").is_file():
            problems.append(f"{dataset.path}: manifest.json missing")
            continue
        problems += [f"{dataset.path}/{p}" for p in verify_dataset(dataset)]
    expected = {entry["path"] for entry in manifest["lake"]["project_datasets"]}
    if expected != {dataset.path for dataset in datasets}:
        problems.append("the database's project datasets differ from the backup's list")
    drill.add("project datasets", problems, f"{len(datasets)} verified against their manifests")


def _check_key_store(drill: Drill, root: Path, key_store: Path | None) -> None:
    if key_store is None:
        drill.warnings.append(
            "key store not checked: give --key-store with the restored key store "
            "before any deposit or preparation on this platform"
        )
        return
    store = KeyStore(Path(key_store))
    problems = list(store.problems())
    if problems:
        drill.add("key store", problems, "")
        return
    metadata = json.loads((root / KEY_STORE_METADATA).read_text(encoding="utf-8"))
    have = {(info.secret, info.version): info.fingerprint for info in store.status()}
    for entry in metadata.get("keys", []):
        found = have.get((entry["secret"], entry["version"]))
        if found is None:
            problems.append(f"{entry['secret']} v{entry['version']} is missing")
        elif found != entry["fingerprint"]:
            problems.append(f"{entry['secret']} v{entry['version']}: fingerprint differs")
    newer = set(have) - {(e["secret"], e["version"]) for e in metadata.get("keys", [])}
    for secret, version in sorted(newer):
        drill.warnings.append(f"key store: {secret} v{version} is newer than the backup")
    # The database's project keys must re-derive from this store.
    masters: dict[int, bytes] = {}
    checked = 0
    for key in ProjectKey.objects.select_related("project").order_by("pk"):
        if ("projects", key.master_version) not in have:
            problems.append(f"project key {key.project.reference} v{key.version}: no master")
            continue
        if key.master_version not in masters:
            masters[key.master_version] = store.master("projects", key.master_version)[1]
        master = masters[key.master_version]
        derived = derive_project_key(master, key.project.reference, key.version)
        if fingerprint(derived) != key.fingerprint:
            problems.append(f"project key {key.project.reference} v{key.version} differs")
        checked += 1
    drill.add(
        "key store",
        problems,
        f"{len(metadata.get('keys', []))} key versions match the backup; "
        f"{checked} project keys re-derive",
    )


def drill(root: Path, *, key_store: Path | None = None) -> Drill:
    """Check the platform of the current settings against the backup in ``root``."""
    manifest = read_manifest(root)
    result = Drill()
    applied, pending = _applied_migrations()
    problems = []
    if applied != sorted(manifest.get("migrations", [])):
        problems.append("the database's migrations differ from the backup's")
    result.add("migrations", problems, f"{len(applied)} applied as at the backup")
    if pending:
        result.warnings.append(f"{pending} migrations of this version to apply: run hdh migrate")
    _check_audit(result, manifest)
    _check_lake(result, manifest)
    _check_key_store(result, root, key_store)
    if manifest.get("secret_key_fingerprint") != secret_fingerprint(settings.SECRET_KEY):
        result.warnings.append(
            "the Django secret differs from the backed-up platform's: sessions and "
            "citizens' receipts issued before will not verify (restore HDH_SECRET_KEY "
            "or the secret_key file)"
        )
    for damage in manifest.get("damaged", []):
        result.warnings.append(f"damaged at backup time: {damage}")
    return result


def record_restore(manifest: dict[str, Any]) -> None:
    with transaction.atomic():
        audit.record(
            action="backup.restored",
            details={
                "backup_created_at": str(manifest.get("created_at")),
                "backup_head_seq": int(manifest["audit"]["head_seq"]),
            },
        )
