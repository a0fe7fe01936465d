"""The preparation demo: a signed contract ready to prepare, objections, identities to try."""

from __future__ import annotations

import shutil
from pathlib import Path

from hdh.access.models import Application
from hdh.access.states import State
from hdh.preparation import demo, objections
from hdh.preparation.plan import Plan, compile_plan
from tests.factories.lake import create_snds_base


def test_demo_loads_a_preparable_application_once(db, settings, tmp_path: Path, synthetic_snds):
    assert "skipped" in demo.load()
    settings.HDH_HOME = tmp_path / "home"
    identities = tmp_path / "home" / "identite" / "snds"
    shutil.copytree(synthetic_snds.identity, identities)
    create_snds_base(tmp_path / "schema", slug="snds")
    summary = demo.load()
    application = Application.objects.get(title=demo.TITLE)
    assert application.state == State.CONTRACT_SIGNED
    assert summary.count("identité synthétique : NIR") == demo.SHOWN
    assert objections.register_version() == demo.OBJECTORS
    # The perimeter names the demo's tables (their data is deposited by the lake's demo).
    plan = Plan.from_json(compile_plan(application.permit).to_json())
    assert {table.name for table in plan.refused_tables} == set(demo.PERIMETER)
    assert "prête à préparer" not in demo.load()
    assert Application.objects.filter(title=demo.TITLE).count() == 1
    assert objections.register_version() == demo.OBJECTORS
