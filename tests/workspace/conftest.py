"""Fixtures of the workspace tests: every test gets its own workspaces folder;
``project`` is an authorised project whose data preparation published a dataset.

The dataset is made by the real services (catalog import, lake deposits,
guichet workflow, extraction plan, DuckDB run), on a small synthetic SNDS
generated once per session.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.preparation.conftest import (  # noqa: F401 - fixtures shared with preparation
    _own_key_store,
    session_keys,
    synthetic_snds,
)
from tests.workspace.factories import Project, create_project


@pytest.fixture(autouse=True)
def _own_workspaces(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.HDH_WORKSPACES = tmp_path / "workspaces"


@pytest.fixture
def project(db: None, tmp_path: Path, synthetic_snds) -> Project:  # type: ignore[no-untyped-def] # noqa: F811
    return create_project(tmp_path, synthetic_snds)


@pytest.fixture
def bwrap_required() -> None:
    """Jobs need the real sandbox: skipped without bubblewrap, except in CI where it is
    installed by dev.py and its absence is a failure."""
    from hdh.workspace import sandbox

    usable, reason = sandbox.sandbox_status()
    if not usable:
        if os.environ.get("CI"):
            pytest.fail(f"no job sandbox in CI: {reason}")
        pytest.skip(f"no job sandbox here: {reason}")
