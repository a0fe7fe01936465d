"""Configuration comes from the environment; production refuses unsafe defaults."""

from __future__ import annotations

import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest

HDH = [sys.executable, "-m", "hdh.cli"]


def run_hdh(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HDH, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HDH_", "DATABASE_URL"))}
    env["HDH_HOME"] = str(tmp_path / "home")
    return env


def test_production_configuration_passes_check_deploy(clean_env: dict, tmp_path: Path) -> None:
    env = {
        **clean_env,
        "HDH_MODE": "production",
        "HDH_SECRET_KEY": secrets.token_urlsafe(64),
        "HDH_ALLOWED_HOSTS": "hdh.example.org",
    }
    result = run_hdh("check", "--deploy", "--fail-level", "WARNING", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        (None, "HDH_SECRET_KEY is required"),
        ("django-insecure-" + "x" * 60, "too weak"),
        ("short", "too weak"),
    ],
)
def test_production_refuses_a_missing_or_weak_secret(
    clean_env: dict, tmp_path: Path, secret: str | None, message: str
) -> None:
    env = {**clean_env, "HDH_MODE": "production", "HDH_ALLOWED_HOSTS": "hdh.example.org"}
    if secret is not None:
        env["HDH_SECRET_KEY"] = secret
    result = run_hdh("check", env=env, cwd=tmp_path)
    assert result.returncode != 0
    assert message in result.stderr
    if secret:
        assert secret not in result.stderr + result.stdout


def test_production_requires_allowed_hosts(clean_env: dict, tmp_path: Path) -> None:
    env = {**clean_env, "HDH_MODE": "production", "HDH_SECRET_KEY": secrets.token_urlsafe(64)}
    result = run_hdh("check", env=env, cwd=tmp_path)
    assert result.returncode != 0
    assert "HDH_ALLOWED_HOSTS is required" in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [("HDH_MODE", "staging"), ("HDH_DEBUG", "perhaps"), ("HDH_LOCKOUT_THRESHOLD", "five")],
)
def test_malformed_settings_get_a_clear_error(
    clean_env: dict, tmp_path: Path, name: str, value: str
) -> None:
    result = run_hdh("check", env={**clean_env, name: value}, cwd=tmp_path)
    assert result.returncode != 0
    assert name in result.stderr


def test_embedded_mode_generates_a_private_secret_once(clean_env: dict, tmp_path: Path) -> None:
    assert run_hdh("check", env=clean_env, cwd=tmp_path).returncode == 0
    key_file = Path(clean_env["HDH_HOME"]) / "secret_key"
    first = key_file.read_text()
    assert len(first) >= 64
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert run_hdh("check", env=clean_env, cwd=tmp_path).returncode == 0
    assert key_file.read_text() == first


def test_production_hasher_is_argon2() -> None:
    from django.conf import settings

    from hdh import settings as project_settings

    assert project_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    assert settings.AUTH_USER_MODEL == "accounts.User"


def test_sqlite_runs_in_wal_mode(db) -> None:  # type: ignore[no-untyped-def]
    from django.db import connection

    if connection.vendor != "sqlite" or connection.is_in_memory_db():
        pytest.skip("WAL applies to a SQLite file")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
