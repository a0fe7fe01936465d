"""The public directory and the statistics: open to all, drafts never, no private detail."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.test import Client
from django.urls import reverse

from hdh.access import directory
from hdh.access.states import State
from tests.factories.access import Staff, create_application_at, create_draft

pytestmark = pytest.mark.django_db


def test_every_submitted_project_is_listed_and_drafts_never(client: Client) -> None:
    draft = create_draft(title="Projet secret en brouillon")
    submitted = create_application_at(State.SUBMITTED)
    refused = create_application_at(State.REFUSED)
    page = client.get(reverse("access:directory")).content.decode()
    assert submitted.project.reference in page
    assert refused.project.reference in page
    assert draft.project.reference not in page
    assert "Projet secret" not in page


def test_search_and_filters(client: Client) -> None:
    create_application_at(State.SUBMITTED)
    fast = create_application_at(State.AUTHORISED, route="fast_track")
    page = client.get(reverse("access:directory"), {"route": "fast_track"}).content.decode()
    assert fast.project.reference in page
    assert page.count("/repertoire/PRJ-") == 1
    by_reference = client.get(reverse("access:directory"), {"q": fast.project.reference})
    assert by_reference.content.decode().count("/repertoire/PRJ-") == 1
    hostile = client.get(reverse("access:directory"), {"q": "x" * 5000, "route": "nope"})
    assert hostile.status_code == 200


def test_open_data_downloads(client: Client) -> None:
    application = create_application_at(State.AUTHORISED)
    response = client.get(reverse("access:directory_csv"))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows[0]["reference"] == application.project.reference
    assert rows[0]["decision"] == "authorised"
    data = client.get(reverse("access:directory_json")).json()
    assert data["projects"][0]["reference"] == application.project.reference
    stages = [s["state"] for s in data["projects"][0]["stages"]]
    assert stages[0] == "submitted"
    assert "team" not in data["projects"][0]


def test_csv_cells_cannot_run_as_formulas() -> None:
    application = create_draft(title='=HYPERLINK("http://evil")')
    from hdh.access.services import applications

    applications.submit(by=application.created_by, application=application)  # type: ignore[arg-type]
    text = directory.as_csv(directory.published())
    assert "'=HYPERLINK" in text


def test_public_project_page_and_unknown_reference(client: Client) -> None:
    application = create_application_at(State.SUBMITTED)
    url = reverse("access:directory_project", args=[application.project.reference])
    assert client.get(url).status_code == 200
    assert client.get(reverse("access:directory_project", args=["PRJ-NOPE"])).status_code == 404
    draft = create_draft()
    url = reverse("access:directory_project", args=[draft.project.reference])
    assert client.get(url).status_code == 404


def test_percentiles() -> None:
    assert directory.percentile([], 0.5) is None
    assert directory.percentile([3.0], 0.9) == 3.0
    assert directory.percentile([1, 2, 3, 4], 0.5) == 2.5
    assert directory.percentile(list(range(1, 11)), 0.9) == 9.1


def test_statistics_per_stage_exclude_the_time_with_the_applicant(frozen, client: Client) -> None:  # type: ignore[no-untyped-def]
    from hdh.access.services import applications, reviews

    team = Staff()
    application = create_application_at(State.ADMISSIBILITY, team=team)
    frozen.advance(dt.timedelta(days=2))
    reviews.return_to_applicant(by=team.officer, application=application, message="Précisez.")
    frozen.advance(dt.timedelta(days=30))
    applications.resubmit(by=application.created_by, application=application)  # type: ignore[arg-type]
    frozen.advance(dt.timedelta(days=1))
    reviews.accept(by=team.officer, application=application)
    figures = {f.stage: f for f in directory.statistics()}
    assert figures["admissibility"].count == 1
    assert figures["admissibility"].median_days == 3.0
    page = client.get(reverse("access:statistics"))
    assert page.status_code == 200
    assert "<meter" in page.content.decode()
