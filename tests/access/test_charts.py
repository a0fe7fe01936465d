"""The drawn charts: vendored Vega builds (checked against their README), and the
statistics page carrying its spec as data next to the accessible table."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

import hdh.core
from hdh.access.states import State
from tests.factories.access import Staff, create_application_at

VENDOR = Path(hdh.core.__file__).parent / "static" / "vendor" / "vega"


def test_the_vendored_builds_match_their_readme() -> None:
    readme = (VENDOR / "README.md").read_text(encoding="utf-8")
    sums = dict(
        (name, digest) for digest, name in re.findall(r"^([0-9a-f]{64})  (\S+)$", readme, re.M)
    )
    assert set(sums) == {"vega.min.js", "vega-lite.min.js", "vega-embed.min.js"}
    for name, digest in sums.items():
        data = (VENDOR / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest, name
        assert b"sourceMappingURL" not in data[-200:], name
        licence = VENDOR / f"LICENSE-{name.removesuffix('.min.js')}"
        assert "Redistribution" in licence.read_text(encoding="utf-8")


@pytest.mark.django_db
def test_the_statistics_page_carries_the_chart_as_data_and_keeps_the_table() -> None:
    create_application_at(State.SCIENTIFIC_REVIEW, team=Staff())
    page = Client().get(reverse("access:statistics")).content.decode()
    spec = re.search(r'<script id="delays-chart" type="application/json">(.*?)</script>', page)
    assert spec is not None
    chart = json.loads(spec.group(1))
    assert chart["$schema"].endswith("/vega-lite/v6.json")
    assert chart["data"]["values"]
    assert 'data-vega-chart="delays-chart"' in page
    assert "/static/vendor/vega/vega.min.js" in page
    assert "/static/core/js/vega-chart.js" in page
    assert "<table>" in page
    assert "<meter" in page
    # Every script is either external or data: nothing inline to run.
    for attributes, body in re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S):
        assert "src=" in attributes or 'type="application/json"' in attributes or not body.strip()


@pytest.mark.django_db
def test_no_chart_without_figures() -> None:
    page = Client().get(reverse("access:statistics")).content.decode()
    assert "data-vega-chart" not in page


def test_the_chart_script_is_served(client: Client) -> None:
    response = client.get("/static/core/js/vega-chart.js")
    assert response.status_code == 200
