from __future__ import annotations

import pytest

from hdh.access import demo
from hdh.access.models import Application
from hdh.access.states import State
from tests.factories.catalog import create_test_base

pytestmark = pytest.mark.django_db


def test_demo_applications_cover_the_workflow_and_load_once() -> None:
    assert "skipped" in demo.load()
    create_test_base(slug="snds")
    assert demo.load().startswith("7 ")
    states = set(Application.objects.values_list("state", flat=True))
    assert {State.DRAFT, State.SUBMITTED, State.AUTHORISED, State.RETURNED} <= states
    assert demo.load().startswith("0 ")
    assert Application.objects.count() == 7
