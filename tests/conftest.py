"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


def pytest_configure(config: pytest.Config) -> None:
    # Test databases may be flushed between transactional tests; see the audit
    # app's ``flush`` command, which refuses otherwise.
    os.environ["HDH_ALLOW_AUDIT_FLUSH"] = "1"


# Tests that never touch the application database (engines, Spark cluster,
# linkage, disclosure checks, the 10M synthetic scale test whose database only
# holds the catalog): their result is the same whatever DATABASE_URL says, so
# the PostgreSQL pass of ``dev.py test`` skips them (``-m "not
# database_independent"``) and the SQLite pass runs them.
DATABASE_INDEPENDENT = (
    "tests/engines/",
    # The disclosure-check library; the airlock's workflow tests use the database.
    "tests/airlock/test_acro_differential.py",
    "tests/airlock/test_files.py",
    "tests/airlock/test_policy_regression_results.py",
    "tests/airlock/test_secondary.py",
    "tests/airlock/test_tables.py",
    "tests/preparation/test_cluster.py",
    "tests/preparation/test_linkage_cohort.py",
    "tests/preparation/test_linkage_deterministic.py",
    "tests/preparation/test_linkage_febrl.py",
    "tests/preparation/test_linkage_probabilistic.py",
    "tests/preparation/test_linkage_spark.py",
    "tests/synth/test_scale.py",
    "tests/workspace/test_sql",
    "tests/workspace/test_escape_sql.py",
    "tests/test_lock.py",
)
ROOT = Path(__file__).resolve().parents[1]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        relative = item.path.resolve().relative_to(ROOT).as_posix()
        if relative.startswith(DATABASE_INDEPENDENT):
            item.add_marker(pytest.mark.database_independent)


@pytest.fixture(autouse=True)
def _isolated_state(settings, tmp_path: Path) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Every test gets its own lake and audit anchor file."""
    settings.HDH_LAKE = tmp_path / "lake"
    settings.HDH_AUDIT_ANCHOR = tmp_path / "audit-anchor.jsonl"
    return


@pytest.fixture(autouse=True)
def _static_files_found_lazily(settings) -> None:  # type: ignore[no-untyped-def]
    # whitenoise otherwise scans every DSFR asset each time a test client starts.
    settings.WHITENOISE_AUTOREFRESH = True


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings) -> None:  # type: ignore[no-untyped-def]
    # Argon2 is the production hasher (tested in tests/test_settings.py); tests
    # that log in many times use a fast one.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
