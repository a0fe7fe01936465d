"""The key store, the two levels of pseudonyms, and the engines' HMAC."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import random
import stat
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from hdh.engines import get_engine
from hdh.keys import nir, pseudonyms
from hdh.keys.store import KeyStore, KeyStoreError, derive_project_key, fingerprint, hkdf_sha256

KEY = b"k" * 32
NIR = "187026331917980"  # synthetic, key valid


def test_init_creates_private_files_and_status_shows_only_fingerprints(tmp_path: Path):
    store = KeyStore(tmp_path / "keys", lake=tmp_path / "lake")
    infos = store.init()
    assert {(i.secret, i.version) for i in infos} == {("level1", 1), ("projects", 1)}
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    for path in (tmp_path / "keys").rglob("*.key"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert fingerprint(bytes.fromhex(path.read_text().strip())) in {
            i.fingerprint for i in infos
        }
    assert store.problems() == []
    # init again keeps the existing secrets.
    assert store.init() == infos


def test_unsafe_or_misplaced_stores_are_refused(tmp_path: Path):
    store = KeyStore(tmp_path / "keys")
    assert "no key store" in store.problems()[0]
    store.init()
    os.chmod(tmp_path / "keys", 0o755)  # noqa: S103 - made unsafe on purpose
    with pytest.raises(KeyStoreError, match="readable by others"):
        store.level1_key()
    os.chmod(tmp_path / "keys", 0o700)
    os.chmod(next((tmp_path / "keys" / "level1").iterdir()), 0o644)
    with pytest.raises(KeyStoreError, match="chmod 600"):
        store.master("level1")
    inside = KeyStore(tmp_path / "lake" / "keys", lake=tmp_path / "lake")
    with pytest.raises(KeyStoreError, match="inside the lake"):
        inside.init()


def test_rotation_adds_a_version_and_keeps_the_old_one(tmp_path: Path):
    store = KeyStore(tmp_path / "keys")
    store.init()
    first = store.project_key("PRJ-1", 1)
    info = store.rotate("projects")
    assert info.version == 2
    assert store.project_key("PRJ-1", 1) != first
    assert store.project_key("PRJ-1", 1, master_version=1) == first
    with pytest.raises(KeyStoreError):
        store.rotate("everything")


def test_project_keys_are_hkdf_of_reference_and_version():
    master = bytes(range(32))
    expected = hkdf_sha256(master, info=b"hdh-project|PRJ-A|1", length=32)
    assert derive_project_key(master, "PRJ-A", 1) == expected
    assert derive_project_key(master, "PRJ-A", 2) != expected
    assert derive_project_key(master, "PRJ-B", 1) != expected
    for bad in ("", "../x", "a|b", "x" * 65, None, 3):
        with pytest.raises(ValueError, match="reference"):
            derive_project_key(master, bad, 1)  # type: ignore[arg-type]
    for version in (0, -1, True, "1"):
        with pytest.raises(ValueError, match="version"):
            derive_project_key(master, "PRJ-A", version)  # type: ignore[arg-type]


def test_level1_is_17_letters_and_normalises_the_nir():
    p1 = pseudonyms.level1(NIR, dt.date(1987, 2, 28), 1, key=KEY)
    assert len(p1) == 17
    assert p1.isalpha()
    assert p1.isupper()
    assert pseudonyms.level1("1 87 02 63 319 179 80", dt.date(1987, 2, 28), "1", key=KEY) == p1
    assert pseudonyms.level1(NIR, dt.date(1987, 2, 27), 1, key=KEY) != p1
    assert pseudonyms.level1(NIR, dt.date(1987, 2, 28), 2, key=KEY) != p1
    assert pseudonyms.level1(NIR, dt.date(1987, 2, 28), 1, key=b"z" * 32) != p1


def test_corsica_nirs_are_checked_with_19_and_18():
    body = "185012A004123"
    key = nir.control_key(body)
    assert key == 97 - int("1850119004123") % 97
    assert nir.normalise(f"{body}{key:02d}") == f"{body}{key:02d}"
    assert nir.normalise(f"{body.lower()}{key:02d}".replace("a", "a")).startswith("18501")


@pytest.mark.parametrize(
    ("value", "birth", "sex"),
    [
        ("187026331917981", dt.date(1987, 2, 28), 1),  # wrong control key
        ("18702633191798", dt.date(1987, 2, 28), 1),  # too short
        ("987026331917980", dt.date(1987, 2, 28), 1),  # bad sex digit
        ("1870263319179ab", dt.date(1987, 2, 28), 1),
        ("x" * 10_000, dt.date(1987, 2, 28), 1),
        (187026331917980, dt.date(1987, 2, 28), 1),  # not text
        (None, dt.date(1987, 2, 28), 1),
        (NIR, "1987-02-28", 1),
        (NIR, dt.datetime(1987, 2, 28), 1),
        (NIR, dt.date(1987, 2, 28), 3),
        (NIR, dt.date(1987, 2, 28), True),
        (NIR, dt.date(1987, 2, 28), "M"),
    ],
)
def test_hostile_identities_are_refused_without_echoing_them(value, birth, sex):
    with pytest.raises(pseudonyms.InvalidIdentity) as error:
        pseudonyms.level1(value, birth, sex, key=KEY)
    assert "1870263319179" not in str(error.value)


def test_level2_is_hex_hmac_of_the_level1_pseudonym():
    p1 = pseudonyms.level1(NIR, dt.date(1987, 2, 28), 1, key=KEY)
    expected = hmac.new(b"p" * 32, p1.encode(), hashlib.sha256).hexdigest()
    assert pseudonyms.level2(p1, key=b"p" * 32) == expected
    for bad in (None, "", 3, "x" * 300):
        with pytest.raises(pseudonyms.InvalidIdentity):
            pseudonyms.level2(bad, key=b"p" * 32)
    with pytest.raises(pseudonyms.InvalidIdentity):
        pseudonyms.level2(p1, key=b"short")


# RFC 4231 test cases whose data is text (1, 2, 6, 7); case 4 and 5 are binary/truncated.
RFC4231 = [
    (b"\x0b" * 20, "Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
    (
        b"Jefe",
        "what do ya want for nothing?",
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    ),
    (
        b"\xaa" * 131,
        "Test Using Larger Than Block-Size Key - Hash Key First",
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    ),
    (
        b"\xaa" * 131,
        "This is a test using a larger than block-size key and a larger than block-size data."
        " The key needs to be hashed before being used by the HMAC algorithm.",
        "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
    ),
]


@pytest.fixture
def engine_name() -> str:
    return "duckdb"


@pytest.mark.parametrize(("key", "message", "digest"), RFC4231)
def test_sql_hmac_matches_rfc_4231(key, message, digest, engine_name):
    with get_engine(engine_name) as engine:
        literal = engine.dialect.literal(message)
        assert engine.scalar(f"SELECT {engine.dialect.hmac_sha256_hex(key, literal)}") == digest


def test_sql_hmac_matches_python_on_random_text(engine_name):
    rng = random.Random(4231)
    alphabet = "abcXYZ019 'é€ß漢字🙂\"\\%_"
    messages = [
        "",
        *("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 80))) for _ in range(200)),
    ]
    import pyarrow as pa

    with get_engine(engine_name) as engine:
        engine.register_arrow("messages", pa.table({"m": messages}))
        for key in (b"\x01", KEY, bytes(range(64)), bytes(range(100))):
            rows = engine.fetch(
                f"SELECT m, {engine.dialect.hmac_sha256_hex(key, 'm')} FROM messages"
            )
            for message, digest in rows:
                assert digest == hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


@pytest.mark.django_db
def test_keys_command(tmp_path: Path, settings, capsys):
    settings.HDH_KEY_STORE = tmp_path / "cmd-keys"
    call_command("keys", "init")
    out = capsys.readouterr().out
    assert "level1\tv0001" in out
    assert "projects\tv0001" in out
    call_command("keys", "rotate-master", "projects")
    assert "projects\tv0002" in capsys.readouterr().out
    call_command("keys", "status")
    status = capsys.readouterr().out
    for path in (tmp_path / "cmd-keys").rglob("*.key"):
        assert path.read_text().strip() not in status
    os.chmod(tmp_path / "cmd-keys", 0o777)  # noqa: S103 - made unsafe on purpose
    with pytest.raises(CommandError):
        call_command("keys", "status")


def test_production_refuses_a_missing_or_unsafe_store(tmp_path: Path, settings):
    from hdh.keys.checks import key_store_check
    from hdh.keys.store import default_store

    settings.PRODUCTION = True
    settings.HDH_KEY_STORE = tmp_path / "none"
    with pytest.raises(KeyStoreError, match="hdh keys init"):
        default_store()
    assert not (tmp_path / "none").exists()
    KeyStore(tmp_path / "none").init()
    assert key_store_check() == []
    os.chmod(tmp_path / "none", 0o755)  # noqa: S103 - made unsafe on purpose
    errors = key_store_check()
    assert errors
    assert errors[0].id == "keys.E001"
    with pytest.raises(KeyStoreError, match="readable by others"):
        default_store()


@pytest.mark.django_db
def test_a_level1_rotation_is_refused_unless_forced(tmp_path: Path, settings, capsys):
    from hdh.audit.models import AuditEvent

    settings.HDH_KEY_STORE = tmp_path / "cmd-keys"
    call_command("keys", "init")
    with pytest.raises(CommandError, match="re-pseudonymised"):
        call_command("keys", "rotate-master", "level1")
    store = KeyStore(tmp_path / "cmd-keys")
    assert store.current_version("level1") == 1
    assert not AuditEvent.objects.filter(action="keys.master_rotated").exists()
    call_command("keys", "rotate-master", "level1", "--force")
    assert store.current_version("level1") == 2
    event = AuditEvent.objects.get(action="keys.master_rotated")
    assert event.details == {"master": "level1", "version": 2, "forced": True}
