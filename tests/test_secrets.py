"""Secrets: none in the repository, key files private whatever the umask, production
refuses a default or weak Django secret, and no secret ever reaches the logs.

Complements tests/test_settings.py (missing, "django-insecure" and short secrets,
the embedded secret file's mode) and tests/keys/test_keys.py (a new store's modes).
"""

from __future__ import annotations

import collections
import math
import os
import random
import re
import secrets
import stat
import string
import subprocess
import sys
from pathlib import Path

import pytest

from hdh.keys.store import KeyStore

ROOT = Path(__file__).resolve().parents[1]
HDH = [sys.executable, "-m", "hdh.cli"]

# Third-party files copied as they are published (colour palettes, checksums).
VENDORED = ("src/hdh/core/static/vendor/", "tests/e2e/vendor/", "src/hdh/catalog/data/")
PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY(?: BLOCK)?-----")
# Formats that are credentials whatever the context: ours, then common providers'.
CREDENTIALS = re.compile(
    r"hdh_[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])"
    r"|AKIA[0-9A-Z]{16}"
    r"|gh[pousr]_[A-Za-z0-9]{36}"
    r"|xox[abprs]-[A-Za-z0-9-]{10,}"
    r"|sk_live_[A-Za-z0-9]{24,}"
)
SECRET_KEY_LITERAL = re.compile(r"""SECRET_KEY\s*[:=]\s*[rbuf]*["'][^"']+["']""")
NAMED_SECRET = re.compile(
    r"""(?i)\b[A-Z_]*(?:SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY)[A-Z_]*\s*[:=]\s*["']([^"'\s]{8,})["']"""
)
TOKEN = re.compile(r"(?<![A-Za-z0-9+/_=-])[A-Za-z0-9+/_=-]{32,}(?![A-Za-z0-9+/_=-])")
# Inline images in tests (base64 PNG, PDF) are data, not secrets.
DATA_PREFIXES = ("iVBORw0KGgo", "JVBERi0", "R0lGOD", "/9j/")


def repository_files() -> list[Path]:
    """Tracked files and new files not ignored: what a commit could carry."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8")
    return [ROOT / name for name in listed.split("\0") if name and (ROOT / name).is_file()]


def entropy(value: str) -> float:
    counts = collections.Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def looks_random(token: str) -> bool:
    """Mixed-case, digits, few repeats: a generated key rather than a word, path or hash."""
    if token.startswith(DATA_PREFIXES) or token.count("/") > 1:
        return False
    classes = sum(bool(re.search(p, token)) for p in ("[a-z]", "[A-Z]", "[0-9]"))
    return classes == 3 and entropy(token) > 4.2


def findings(path: Path, text: str) -> list[str]:
    relative = path.relative_to(ROOT).as_posix()
    found = [f"{relative}: private key block" for _ in PRIVATE_KEY.finditer(text)]
    if relative.startswith(VENDORED):
        return found
    found += [f"{relative}: credential {m.group()[:8]}…" for m in CREDENTIALS.finditer(text)]
    found += [f"{relative}: SECRET_KEY literal" for _ in SECRET_KEY_LITERAL.finditer(text)]
    if relative.startswith("src/"):
        found += [f"{relative}: {m.group()[:30]}…" for m in NAMED_SECRET.finditer(text)]
    found += [
        f"{relative}: random-looking {m.group()[:8]}…"
        for m in TOKEN.finditer(text)
        if looks_random(m.group())
    ]
    return found


@pytest.mark.database_independent
def test_no_secret_in_the_repository() -> None:
    files = repository_files()
    assert len(files) > 100
    problems = []
    for path in files:
        if path.stat().st_size > 5_000_000:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        problems += findings(path, text)
    assert problems == []
    assert not [p for p in files if p.suffix in {".pem", ".key", ".p12", ".pfx"}]
    assert not [p for p in files if p.name in {"secret_key", ".env", "id_rsa", "id_ed25519"}]


@pytest.mark.database_independent
@pytest.mark.parametrize(
    "planted",
    [
        # Assembled here so that this file does not hold what it looks for.
        "-----BEGIN RSA " + "PRIVATE KEY-----\nMIIE\n",
        "-----BEGIN OPENSSH " + "PRIVATE KEY-----\n",
        "SECRET_" + 'KEY = "x"',
        "token = 'hdh_" + "A" * 43 + "'",
        "AKIA" + "ABCDEFGHIJKLMNOP",
        "k = '"
        + "".join(random.Random(7).choices(string.ascii_letters + string.digits, k=48))
        + "'",
    ],
)
def test_the_repository_scan_catches_planted_secrets(planted: str) -> None:
    """The scan above would fail on each kind of leak it looks for."""
    assert findings(ROOT / "src" / "hdh" / "planted.py", f"x = 1\n{planted}\n")


@pytest.mark.database_independent
def test_key_files_are_private_whatever_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        store = KeyStore(tmp_path / "keys")
        store.init()
        store.rotate("projects")
    finally:
        os.umask(previous)
    folders = [tmp_path / "keys", *(p for p in (tmp_path / "keys").rglob("*") if p.is_dir())]
    key_files = list((tmp_path / "keys").rglob("*.key"))
    assert len(key_files) == 3
    assert {stat.S_IMODE(p.stat().st_mode) for p in folders} == {0o700}
    assert {stat.S_IMODE(p.stat().st_mode) for p in key_files} == {0o600}


def _run_hdh(args: list[str], env: dict[str, str], cwd: Path, umask: int | None = None):  # type: ignore[no-untyped-def]
    return subprocess.run(
        [*HDH, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        preexec_fn=(lambda: os.umask(umask)) if umask is not None else None,
    )


@pytest.fixture
def clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HDH_", "DATABASE_URL"))}
    env["HDH_HOME"] = str(tmp_path / "home")
    return env


@pytest.mark.database_independent
def test_the_generated_secret_file_is_private_whatever_the_umask(
    clean_env: dict[str, str], tmp_path: Path
) -> None:
    result = _run_hdh(["check"], clean_env, tmp_path, umask=0)
    assert result.returncode == 0, result.stderr
    key_file = Path(clean_env["HDH_HOME"]) / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


PRODUCTION = {"HDH_MODE": "production", "HDH_ALLOWED_HOSTS": "hdh.example.org"}


@pytest.mark.database_independent
@pytest.mark.parametrize(
    "secret",
    [
        "change-me-" + "x" * 50,
        "changeme" + secrets.token_urlsafe(48),
        "secret-" + secrets.token_urlsafe(48),
        "dev-" + secrets.token_urlsafe(48),
        "Django-Insecure-" + secrets.token_urlsafe(48),
        secrets.token_urlsafe(48)[:49],
    ],
    ids=["change-me", "changeme", "secret", "dev", "insecure-any-case", "49-characters"],
)
def test_production_refuses_default_secrets_without_echoing_them(
    clean_env: dict[str, str], tmp_path: Path, secret: str
) -> None:
    result = _run_hdh(["check"], {**clean_env, **PRODUCTION, "HDH_SECRET_KEY": secret}, tmp_path)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "too weak" in result.stderr
    assert secret not in result.stdout + result.stderr


@pytest.mark.database_independent
def test_production_never_falls_back_to_the_embedded_secret_file(
    clean_env: dict[str, str], tmp_path: Path
) -> None:
    assert _run_hdh(["check"], clean_env, tmp_path).returncode == 0
    assert (Path(clean_env["HDH_HOME"]) / "secret_key").exists()
    result = _run_hdh(["check"], {**clean_env, **PRODUCTION}, tmp_path)
    assert result.returncode != 0
    assert "HDH_SECRET_KEY is required" in result.stderr


@pytest.mark.database_independent
def test_a_low_diversity_secret_fails_the_deploy_check(
    clean_env: dict[str, str], tmp_path: Path
) -> None:
    """Long enough for startup, but `hdh check --deploy` (CI and operators) refuses it."""
    weak = "ab" * 30
    result = _run_hdh(
        ["check", "--deploy", "--fail-level", "WARNING"],
        {**clean_env, **PRODUCTION, "HDH_SECRET_KEY": weak},
        tmp_path,
    )
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr
    assert weak not in result.stdout + result.stderr


@pytest.mark.django_db
def test_no_secret_reaches_the_logs(tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    """The log-scan scenario (every input) leaves no secret in logs, audit or output."""
    from tests.test_log_scan import capture_logs, exercise_every_input, prepare

    prepare(tmp_path, settings)
    with capture_logs() as captured:
        exercise_every_input(captured, tmp_path)
    keys = [p.read_text().strip() for p in Path(settings.HDH_KEY_STORE).rglob("*.key")]
    assert len(keys) == 2
    leaked = [settings.SECRET_KEY, *keys]
    text = "\n".join([captured.logs(), captured.audit(), *captured.outputs])
    assert "Not Found" in text
    for secret in leaked:
        assert secret not in text
        assert secret[:16] not in text
