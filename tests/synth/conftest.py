from __future__ import annotations

from pathlib import Path

import pytest

from hdh.synth import snds
from hdh.synth.schema import snds_shapes_from_files


@pytest.fixture(scope="session")
def shapes():
    return snds_shapes_from_files(snds.TABLES)


@pytest.fixture(scope="session")
def small_snds(tmp_path_factory, shapes) -> snds.SndsResult:
    """3,000 beneficiaries over 2023, generated once for the read-only tests."""
    root: Path = tmp_path_factory.mktemp("snds")
    spec = snds.SndsSpec(beneficiaries=3000, seed=7, batch=1000)
    return snds.generate(spec=spec, out=root / "out", identity_out=root / "id", shapes=shapes)
