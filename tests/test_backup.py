"""Backup and restore: the drill restores a platform into a new home, its audit log
and every dataset manifest verify, and it serves the catalog; a tampered backup is
refused, naming what is wrong.

Runs on the database of the test run: SQLite, or PostgreSQL (the restore then goes
into a new database on the same server, dropped afterwards).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import tarfile
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlunsplit

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from hdh.audit import services as audit
from hdh.audit.models import AuditEvent
from hdh.catalog.models import Base
from hdh.engines import files
from hdh.keys.store import KeyStore
from hdh.lake.models import DatasetVersion, DepositStatus
from hdh.lake.services import ingest
from hdh.preparation.models import ProjectDataset
from hdh.synth import snds
from hdh.synth.schema import snds_shapes_from_files
from tests.e2e.live import fresh_postgres_database, hdh_command, serving
from tests.factories.catalog import create_test_base
from tests.factories.lake import create_producer
from tests.lake.conftest import lake_folder
from tests.preparation.conftest import make_world
from tests.preparation.helpers import approved_plan, run

# The backup reads committed data, as a real one does.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PATIENTS = "PAT_ID;PAT_SEX;PAT_NAI_ANN;PAT_DPT\n" + "".join(
    f"P{i:07d};{1 + i % 2};{1950 + i};0{75 + i % 3}\n" for i in range(30)
)


@dataclass
class Platform:
    keys: Path
    base: Base
    tmp: Path


def hdh(*args: str | Path, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*hdh_command(), *map(str, args)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HDH_", "DATABASE_URL"))}
    env["HDH_HOME"] = str(home)
    return env


@contextmanager
def new_database() -> Iterator[str | None]:
    """A new, empty database of the test run's kind: None (SQLite in the new home)."""
    if connection.vendor != "postgresql":
        yield None
        return
    params = connection.settings_dict
    auth = quote(params["USER"] or "postgres")
    if params.get("PASSWORD"):
        auth += ":" + quote(params["PASSWORD"])
    netloc = f"{auth}@{params.get('HOST') or '127.0.0.1'}:{params.get('PORT') or 5432}"
    with fresh_postgres_database(urlunsplit(("postgresql", netloc, "/postgres", "", ""))) as url:
        yield url


def restore_args(database_url: str | None) -> list[str]:
    return ["--database-url", database_url] if database_url else []


@pytest.fixture
def keys(tmp_path: Path, settings) -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path / "keys"
    KeyStore(path).init()
    settings.HDH_KEY_STORE = path
    return path


@pytest.fixture
def small_platform(tmp_path: Path, keys: Path, settings) -> Platform:  # type: ignore[no-untyped-def]
    """A catalogued base with one deposited dataset version, and files in every folder."""
    base = create_test_base()
    from hdh.catalog.services.dictionary import import_tableschema

    import_tableschema(directory=lake_folder(tmp_path / "schema"), base=base, by=None)
    base.refresh_from_db()
    source = tmp_path / "patients.csv"
    source.write_text(PATIENTS, encoding="utf-8")
    deposit = ingest(base=base, table="PATIENT", files=[source], by=create_producer())
    assert deposit.status == DepositStatus.ACCEPTED, deposit.report
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.HDH_WORKSPACES = tmp_path / "workspaces"
    settings.HDH_AIRLOCK = tmp_path / "airlock"
    for folder, name in (("media", "access/protocols/p.pdf"), ("workspaces", "w1/outputs/t.csv")):
        path = tmp_path / folder / name
        path.parent.mkdir(parents=True)
        path.write_bytes(b"%PDF-1.4 test\n" if name.endswith(".pdf") else b"n\n12\n")
    return Platform(keys, base, tmp_path)


def rewrite_manifest(root: Path, changed: str) -> None:
    """Recompute one file's size and checksum, as someone who altered it would."""
    manifest = json.loads((root / "manifest.json").read_text())
    for entry in manifest["files"]:
        if entry["path"] == changed:
            entry["bytes"] = (root / changed).stat().st_size
            entry["sha256"] = files.sha256_of(root / changed)
    (root / "manifest.json").write_text(json.dumps(manifest))


def delete_audit_event_from_dump(root: Path, seq: int, scratch: Path) -> str:
    """Delete one event from the backup's database dump, triggers out of the way."""
    manifest = json.loads((root / "manifest.json").read_text())
    dump = manifest["database"]["dump"]
    statements = [
        "DROP TRIGGER IF EXISTS audit_auditevent_no_delete",
        "DROP TRIGGER IF EXISTS audit_auditevent_append_only ON audit_auditevent",
        f"DELETE FROM audit_auditevent WHERE seq = {int(seq)}",
    ]
    if manifest["database"]["vendor"] == "sqlite":
        db = sqlite3.connect(root / dump)
        db.execute(statements[0])
        db.execute(statements[2])
        db.commit()
        db.close()
        return dump
    import psycopg

    with new_database() as url:
        assert url is not None
        conn = ["--dbname", url]
        subprocess.run(["pg_restore", "--no-owner", *conn, root / dump], check=True)
        with psycopg.connect(url, autocommit=True) as db:
            db.execute(statements[1])
            db.execute(statements[2])
        (root / dump).unlink()
        subprocess.run(
            ["pg_dump", "--format=custom", "--no-owner", *conn, "--file", root / dump],
            check=True,
        )
    return dump


# --- the drill -------------------------------------------------------------------------------
@pytest.fixture
def full_platform(tmp_path: Path, keys: Path, settings) -> Platform:  # type: ignore[no-untyped-def]
    """A catalogued SNDS, deposited, an application authorised and its dataset prepared,
    and a sealed day of audit events."""
    result = snds.generate(
        spec=snds.SndsSpec(beneficiaries=80, seed=11, start=dt.date(2022, 1, 1)),
        out=tmp_path / "snds" / "tables",
        identity_out=tmp_path / "snds" / "identite",
        shapes=snds_shapes_from_files(snds.TABLES),
        level1_key=KeyStore(keys).level1_key()[1],
    )
    world = make_world(tmp_path, result)
    run(approved_plan(world.permit, world.engineer), world.engineer)
    from hdh.core import clock

    with clock.frozen(clock.now() + dt.timedelta(days=1)):
        assert audit.seal_pending_days()
    assert (tmp_path / "audit-anchor.jsonl").read_text().strip()
    settings.HDH_WORKSPACES = tmp_path / "workspaces"
    (tmp_path / "workspaces" / "p1").mkdir(parents=True)
    (tmp_path / "workspaces" / "p1" / "analysis.py").write_text("print('n')\n")
    return Platform(keys, world.base, tmp_path)


@pytest.mark.parametrize("packed", [False, True], ids=["folder", "tar"])
def test_restore_drill_verifies_and_serves_the_catalog(full_platform: Platform, packed: bool):
    tmp = full_platform.tmp
    destination = tmp / ("backup.tar" if packed else "backup")
    call_command("backup", str(destination), verbosity=0)
    assert destination.exists()
    assert not [p for p in tmp.iterdir() if p.name.startswith(f".{destination.name}")]
    versions = DatasetVersion.objects.count()
    datasets = ProjectDataset.objects.count()
    assert versions >= 1
    assert datasets == 1
    head = AuditEvent.objects.order_by("-seq").first()
    assert head is not None
    assert head.action == "backup.created"
    home = tmp / "restored"
    with new_database() as database_url:
        env = clean_env(home)
        restored = hdh(
            "restore",
            destination,
            "--home",
            home,
            "--key-store",
            full_platform.keys,
            *restore_args(database_url),
            env=env,
            cwd=tmp,
        )
        assert restored.returncode == 0, restored.stdout + restored.stderr
        out = restored.stdout
        assert f"ok   dataset versions: {versions} verified" in out
        assert "ok   project datasets: 1 verified" in out
        assert f"backup head #{head.seq} found" in out
        assert "project keys re-derive" in out
        assert "restore drill passed" in out
        # The restored home: its own lake, folders and anchor, no key store.
        assert (home / "workspaces" / "p1" / "analysis.py").read_text() == "print('n')\n"
        assert (home / "audit-anchor.jsonl").read_bytes() == (
            tmp / "audit-anchor.jsonl"
        ).read_bytes()
        assert not (home / "keys").exists()
        if database_url:
            env["DATABASE_URL"] = database_url
        verified = hdh("audit", "verify", env=env, cwd=tmp)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert "audit log intact" in verified.stdout
        assert "1 seals" in verified.stdout
        with serving(env, tmp / "serve.log") as url:
            page = f"{url}/catalogue/bases/{full_platform.base.slug}/"
            with urllib.request.urlopen(page, timeout=30) as response:  # noqa: S310 - loopback
                assert response.status == 200
                assert full_platform.base.title in response.read().decode()


def test_the_backup_holds_key_metadata_but_never_a_key(small_platform: Platform):
    destination = small_platform.tmp / "backup"
    call_command("backup", str(destination), verbosity=0)
    secrets_ = {p.read_text().strip() for p in small_platform.keys.rglob("*.key")}
    assert len(secrets_) == 2
    for path in destination.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            for secret in secrets_:
                assert secret.encode() not in content, path
                assert bytes.fromhex(secret) not in content, path
    metadata = json.loads((destination / "key-store.json").read_text())
    assert {(k["secret"], k["version"]) for k in metadata["keys"]} == {
        ("level1", 1),
        ("projects", 1),
    }
    assert all(len(k["fingerprint"]) == 16 and k["created"] for k in metadata["keys"])
    # Personal data inside: owner-only, like the key store.
    for path in [destination, *destination.rglob("*")]:
        assert path.stat().st_mode & 0o077 == 0, path
    manifest = json.loads((destination / "manifest.json").read_text())
    assert manifest["folders"] == ["media", "workspaces"]
    assert manifest["damaged"] == []
    assert {e["path"] for e in manifest["files"]} >= {
        "media/access/protocols/p.pdf",
        "workspaces/w1/outputs/t.csv",
        "key-store.json",
        manifest["database"]["dump"],
    }


def test_a_backup_never_overwrites(small_platform: Platform):
    destination = small_platform.tmp / "backup"
    destination.mkdir()
    with pytest.raises(CommandError, match="already exists"):
        call_command("backup", str(destination), verbosity=0)
    assert list(destination.iterdir()) == []


def test_a_damaged_lake_is_backed_up_but_reported(small_platform: Platform, settings):
    version = DatasetVersion.objects.get()
    data = Path(settings.HDH_LAKE) / version.path / "data-00000.parquet"
    data.write_bytes(data.read_bytes()[:-10])
    destination = small_platform.tmp / "backup"
    with pytest.raises(CommandError, match="damaged"):
        call_command("backup", str(destination), verbosity=0)
    manifest = json.loads((destination / "manifest.json").read_text())
    assert manifest["damaged"] == [
        f"dataset version {version.path}: data-00000.parquet differs from its manifest"
    ]


# --- refusals --------------------------------------------------------------------------------
@pytest.fixture
def backed_up(small_platform: Platform) -> Path:
    destination = small_platform.tmp / "backup"
    call_command("backup", str(destination), verbosity=0)
    return destination


def restore(source: Path, home: Path, *extra: str) -> None:
    call_command("restore", str(source), "--home", str(home), *extra, verbosity=0)


def test_a_modified_file_is_refused_by_name(backed_up: Path, tmp_path: Path):
    version = DatasetVersion.objects.get()
    data = backed_up / "lake" / version.path / "data-00000.parquet"
    raw = bytearray(data.read_bytes())
    raw[100] ^= 0xFF
    data.write_bytes(bytes(raw))
    with pytest.raises(CommandError, match=f"lake/{version.path}/data-00000.parquet: checksum"):
        restore(backed_up, tmp_path / "new")
    assert not (tmp_path / "new").exists()


def test_a_truncated_dump_is_refused(backed_up: Path, tmp_path: Path):
    dump = json.loads((backed_up / "manifest.json").read_text())["database"]["dump"]
    content = (backed_up / dump).read_bytes()
    (backed_up / dump).write_bytes(content[: len(content) // 2])
    with pytest.raises(CommandError, match=f"{dump}: size differs"):
        restore(backed_up, tmp_path / "new")
    # Even with a manifest rewritten to match, the database itself is refused.
    rewrite_manifest(backed_up, dump)
    with new_database() as url, pytest.raises(CommandError, match=r"hdh\.sqlite3|restoring"):
        restore(backed_up, tmp_path / "new", *restore_args(url))


@pytest.mark.parametrize("where", ["middle", "head"])
def test_an_audit_event_deleted_from_the_dump_fails_the_drill(
    backed_up: Path, tmp_path: Path, where: str, capsys
):
    head = json.loads((backed_up / "manifest.json").read_text())["audit"]["head_seq"]
    seq = 2 if where == "middle" else head
    dump = delete_audit_event_from_dump(backed_up, seq, tmp_path)
    rewrite_manifest(backed_up, dump)
    with new_database() as url, pytest.raises(CommandError, match="restore drill FAILED"):
        restore(backed_up, tmp_path / "new", *restore_args(url))
    out = capsys.readouterr().out
    if where == "middle":
        assert "FAIL audit log: NOT intact: event #3: expected #2" in out
    else:
        assert f"FAIL audit log: the backup's head #{head} is not in the database" in out


def test_the_drill_fails_on_a_different_key_store(backed_up: Path, tmp_path: Path, capsys):
    other = tmp_path / "other-keys"
    KeyStore(other).init()
    with new_database() as url, pytest.raises(CommandError, match="restore drill FAILED"):
        restore(backed_up, tmp_path / "new", "--key-store", str(other), *restore_args(url))
    assert "FAIL key store: level1 v1: fingerprint differs" in capsys.readouterr().out


def test_a_non_empty_home_is_refused(backed_up: Path, tmp_path: Path):
    home = tmp_path / "new"
    home.mkdir()
    (home / "hdh.sqlite3").write_bytes(b"precious")
    with pytest.raises(CommandError, match="is not empty"):
        restore(backed_up, home)
    assert (home / "hdh.sqlite3").read_bytes() == b"precious"


def test_a_non_empty_database_is_refused(backed_up: Path, tmp_path: Path):
    if connection.vendor != "postgresql":
        existing = backed_up / "database" / "hdh.sqlite3"
        with pytest.raises(CommandError, match="already exists"):
            restore(backed_up, tmp_path / "new", "--database-url", f"sqlite:///{existing}")
        return
    with new_database() as url:
        assert url is not None
        import psycopg

        with psycopg.connect(url, autocommit=True) as db:
            db.execute("CREATE TABLE precious (n int)")
        with pytest.raises(CommandError, match="not empty"):
            restore(backed_up, tmp_path / "new", "--database-url", url)


def test_a_wrong_manifest_digest_is_refused(backed_up: Path, tmp_path: Path):
    with pytest.raises(CommandError, match="not the expected one"):
        restore(backed_up, tmp_path / "new", "--expect-sha256", "0" * 64)
    with pytest.raises(CommandError, match="64 hexadecimal"):
        restore(backed_up, tmp_path / "new", "--expect-sha256", "abc")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("extra", "planted.txt: not listed in the manifest"),
        ("traversal", "unsafe path in the backup"),
        ("format", "unknown format"),
        ("not-json", "not valid JSON"),
        ("missing", "key-store.json: missing"),
    ],
)
def test_hostile_or_broken_backups_are_refused(
    backed_up: Path, tmp_path: Path, change: str, message: str
):
    manifest_file = backed_up / "manifest.json"
    manifest = json.loads(manifest_file.read_text())
    if change == "extra":
        (backed_up / "planted.txt").write_text("x")
    elif change == "traversal":
        manifest["files"].append({"path": "../../etc/passwd", "bytes": 1, "sha256": "0" * 64})
    elif change == "format":
        manifest["format"] = "something/9"
    elif change == "missing":
        (backed_up / "key-store.json").unlink()
    if change == "not-json":
        manifest_file.write_text("{not json")
    else:
        manifest_file.write_text(json.dumps(manifest))
    with pytest.raises(CommandError, match=message):
        restore(backed_up, tmp_path / "new")
    assert not (tmp_path / "new").exists()


def test_a_tar_with_a_link_is_refused(backed_up: Path, tmp_path: Path):
    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(backed_up / "manifest.json", arcname="manifest.json")
        link = tarfile.TarInfo("lake")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc"
        tar.addfile(link)
    with pytest.raises(CommandError, match="unexpected link"):
        restore(archive, tmp_path / "new")
    with pytest.raises(CommandError, match="neither a backup folder"):
        restore(tmp_path / "nothing-here", tmp_path / "new")


def test_a_postgres_backup_needs_a_database_url(backed_up: Path, tmp_path: Path):
    manifest = json.loads((backed_up / "manifest.json").read_text())
    if manifest["database"]["vendor"] == "postgresql":
        with pytest.raises(CommandError, match="give --database-url"):
            restore(backed_up, tmp_path / "new")
    else:
        with pytest.raises(CommandError, match="holds a SQLite database"):
            restore(backed_up, tmp_path / "new", "--database-url", "postgres://u@h/db")


def test_the_drill_alone_checks_the_running_platform_and_records_nothing(
    backed_up: Path, small_platform: Platform, capsys
):
    before = AuditEvent.objects.count()
    call_command("restore", str(backed_up), "--drill", "--key-store", str(small_platform.keys))
    out = capsys.readouterr().out
    assert "ok   dataset versions: 1 verified" in out
    assert "ok   key store: 2 key versions match the backup" in out
    assert AuditEvent.objects.count() == before
