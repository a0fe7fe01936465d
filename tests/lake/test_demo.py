"""``hdh.lake.demo.load()`` deposits every generated SNDS table once."""

from __future__ import annotations

import pytest

from hdh.lake import demo
from hdh.lake.models import DatasetVersion, Deposit
from hdh.synth import snds

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_demo_deposits_each_snds_table_once(monkeypatch, settings, tmp_path):
    settings.HDH_DEMO_BENEFICIARIES = 400
    settings.HDH_HOME = tmp_path / "home"
    summary = demo.load()
    assert summary.startswith("SNDS synthétique : 7 versions")
    assert sorted(DatasetVersion.objects.values_list("table_name", flat=True)) == sorted(
        snds.TABLES
    )
    assert (tmp_path / "home" / "identite" / "snds" / "IR_IDENTITE").is_dir()
    assert demo.load() == summary
    assert Deposit.objects.count() == len(snds.TABLES)
