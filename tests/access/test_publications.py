"""Results and publications of a project: added by its team or the guichet, shown on the
public project page and in the open data; everyone else is refused."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from hdh.access.models import Application, Publication
from hdh.access.services import publications
from hdh.access.states import State
from hdh.audit.models import AuditEvent
from hdh.core import clock
from hdh.core.errors import InvalidState, NotAllowed, ValidationFailed
from hdh.core.permissions import Role
from tests.access.helpers import client_for
from tests.factories.access import Staff, create_application_at, create_draft, researcher
from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db

ARTICLE: dict[str, Any] = {
    "title": "Rééducation après fracture du col du fémur : une cohorte nationale",
    "kind": "article",
    "published_on": dt.date(2025, 3, 14),
    "doi": "https://doi.org/10.1234/hdh.2025.001",
}


def test_the_team_adds_a_publication_shown_in_the_directory(client: Client) -> None:
    application = create_application_at(State.AUTHORISED)
    owner = application.created_by
    found = publications.add(by=owner, project=application.project, **ARTICLE)  # type: ignore[arg-type]
    assert found.doi == "10.1234/hdh.2025.001"
    event = AuditEvent.objects.get(action="access.publication.added")
    assert event.details == {"publication_id": found.pk, "kind": "article"}

    reference = application.project.reference
    page = client.get(reverse("access:directory_project", args=[reference])).content.decode()
    assert ARTICLE["title"] in page
    assert 'href="https://doi.org/10.1234/hdh.2025.001"' in page
    data = client.get(reverse("access:directory_json")).json()
    assert data["projects"][0]["publications"] == [
        {
            "title": ARTICLE["title"],
            "kind": "article",
            "url": "",
            "doi": "10.1234/hdh.2025.001",
            "date": "2025-03-14",
        }
    ]
    rows = list(csv.DictReader(io.StringIO(client.get(reverse("access:directory_csv")).text)))
    assert rows[0]["publications"] == f"2025-03-14 {ARTICLE['title']} (10.1234/hdh.2025.001)"


def test_the_guichet_adds_and_others_are_refused_and_audited() -> None:
    team = Staff()
    application = create_application_at(State.AUTHORISED, team=team)
    publications.add(by=team.officer, project=application.project, **ARTICLE)
    for outsider in (
        researcher(),
        team.regulator,
        UserFactory(roles=[Role.COMMITTEE_MEMBER]),
    ):
        with pytest.raises(NotAllowed):
            publications.add(by=outsider, project=application.project, **ARTICLE)
    denials = AuditEvent.objects.filter(action="permission.denied")
    assert denials.count() == 3
    assert Publication.objects.count() == 1


def test_a_draft_project_has_no_publications() -> None:
    draft = create_draft()
    with pytest.raises(InvalidState):
        publications.add(by=draft.created_by, project=draft.project, **ARTICLE)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "change",
    [
        {"title": ""},
        {"title": "x" * 501},
        {"kind": "tweet"},
        {"doi": "not-a-doi"},
        {"doi": "10.1234/" + "x" * 300},
        {"doi": "", "url": ""},
        {"doi": "", "url": "javascript:alert(1)"},
        {"doi": "", "url": "ftp://example.org/a.pdf"},
        {"doi": "", "url": "https://" + "a" * 600 + ".org"},
        {"published_on": dt.date(2999, 1, 1)},
    ],
)
def test_hostile_publications_are_refused(change: dict[str, Any]) -> None:
    application = create_application_at(State.SUBMITTED)
    with pytest.raises(ValidationFailed):
        publications.add(
            by=application.created_by,  # type: ignore[arg-type]
            project=application.project,
            **{**ARTICLE, **change},
        )
    assert not Publication.objects.exists()


def test_the_file_page_adds_and_removes_and_ids_of_other_projects_are_404() -> None:
    application = create_application_at(State.SUBMITTED)
    other = create_application_at(State.SUBMITTED)
    client = client_for(application.created_by)  # type: ignore[arg-type]
    detail = reverse("access:detail", args=[application.pk])
    assert "Ajouter un résultat ou une publication" in client.get(detail).content.decode()
    response = client.post(
        reverse("access:publication_add", args=[application.pk]),
        {
            "title": "Rapport final",
            "kind": "report",
            "published_on": clock.today().isoformat(),
            "url": "https://example.org/rapport.pdf",
        },
    )
    assert response.status_code == 302
    found = Publication.objects.get()
    bad = client.post(reverse("access:publication_add", args=[application.pk]), {"title": ""})
    assert bad.status_code == 422
    elsewhere = publications.add(by=other.created_by, project=other.project, **ARTICLE)  # type: ignore[arg-type]
    for pub in (elsewhere.pk, 2**63):
        response = client.post(reverse("access:publication_remove", args=[application.pk, pub]))
        assert response.status_code == 404
    response = client.post(reverse("access:publication_remove", args=[application.pk, found.pk]))
    assert response.status_code == 302
    assert list(Publication.objects.all()) == [elsewhere]
    assert AuditEvent.objects.filter(action="access.publication.removed").count() == 1
    assert Application.objects.count() == 2
