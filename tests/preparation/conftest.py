"""A small synthetic SNDS in the lake and an application whose contract is signed.

``engine_name`` parametrises every engine-dependent test; add an engine to its
params to run the same tests on it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pyarrow.parquet as pq
import pytest

from hdh.access.models import Application, Permit
from hdh.access.states import State
from hdh.accounts.models import User
from hdh.catalog.models import Base
from hdh.core.permissions import Role
from hdh.keys.store import KeyStore
from hdh.lake.models import DepositStatus
from hdh.lake.services import ingest
from hdh.synth import snds
from hdh.synth.schema import snds_shapes_from_files
from tests.factories.access import Staff, create_application_at
from tests.factories.accounts import UserFactory
from tests.factories.lake import create_producer, create_snds_base

BENEFICIARIES = 300


@pytest.fixture(params=("duckdb", "spark"))
def engine_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def session_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("preparation") / "keys"
    KeyStore(path).init()
    return path


@pytest.fixture(autouse=True)
def _own_key_store(settings, session_keys: Path) -> None:  # type: ignore[no-untyped-def]
    # One store for the session: the synthetic SNDS below is made once, under its level-1 key.
    settings.HDH_KEY_STORE = session_keys


@pytest.fixture(scope="session")
def synthetic_snds(tmp_path_factory: pytest.TempPathFactory, session_keys: Path) -> snds.SndsResult:
    folder = tmp_path_factory.mktemp("snds")
    return snds.generate(
        spec=snds.SndsSpec(beneficiaries=BENEFICIARIES, seed=7, start=dt.date(2022, 1, 1)),
        out=folder / "tables",
        identity_out=folder / "identite",
        shapes=snds_shapes_from_files(snds.TABLES),
        level1_key=KeyStore(session_keys).level1_key()[1],
    )


@dataclass
class Identity:
    nir: str
    birth_date: dt.date
    sex: int
    p1: str


@dataclass
class World:
    base: Base
    application: Application
    permit: Permit
    engineer: User
    team: Staff
    identities: list[Identity]


def load_snds(result: snds.SndsResult, base: Base) -> list[Identity]:
    """Deposit every table through the real lake path (profiles skipped: not used here)."""
    producer = create_producer()
    with mock.patch("hdh.lake.services._profiles", return_value={}):
        for table in snds.TABLES:
            deposit = ingest(
                base=base,
                table=table,
                files=[result.folder / table / "part-00000.parquet"],
                by=producer,
            )
            assert deposit.status == DepositStatus.ACCEPTED, deposit.report
    rows = pq.read_table(result.identity / "IR_IDENTITE" / "part-00000.parquet").to_pylist()
    return [
        Identity(r["BEN_NIR"], r["BEN_NAI_DTE"], int(r["BEN_SEX_COD"]), r["BEN_NIR_PSA"])
        for r in rows
    ]


def make_world(tmp_path: Path, result: snds.SndsResult) -> World:
    base = create_snds_base(tmp_path / "schema", slug="snds")
    identities = load_snds(result, base)
    team = Staff()
    application = create_application_at(State.CONTRACT_SIGNED, base=base, team=team)
    permit = Permit.objects.get(application=application)
    return World(base, application, permit, team.engineer, team, identities)


@pytest.fixture
def world(db: None, tmp_path: Path, synthetic_snds: snds.SndsResult) -> World:
    return make_world(tmp_path, synthetic_snds)


@pytest.fixture
def engineer(db: None) -> User:
    user: User = UserFactory(roles=[Role.DATA_ENGINEER])
    return user


@pytest.fixture
def linkable(world: World, settings, tmp_path: Path, synthetic_snds: snds.SndsResult):  # type: ignore[no-untyped-def]
    """A published dataset, the identities beside the lake and a corrupted cohort file."""
    from tests.preparation.linkage_world import make_linkable

    return make_linkable(world, settings, tmp_path, synthetic_snds)
