"""The guichet's API: a permission matrix over every route, role and someone else's file;
then hostile input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from hdh.access.api import router
from hdh.access.models import Application
from hdh.access.states import State
from hdh.audit.models import AuditEvent
from tests.access.helpers import client_for
from tests.factories.access import Staff, create_application_at, create_draft, researcher

pytestmark = pytest.mark.django_db

ACTORS = ("anonymous", "stranger", "owner", "officer", "reviewer", "regulator")
EVERYONE = set(ACTORS)
SIGNED_IN = EVERYONE - {"anonymous"}
FILE_READERS = {"owner", "officer", "reviewer", "regulator"}

# (method, path under /api/access, body) → who gets past the permission checks.
MATRIX: dict[tuple[str, str], tuple[dict[str, Any] | None, set[str]]] = {
    ("GET", "/applications"): (None, SIGNED_IN),
    ("POST", "/applications"): ({"title": "T"}, {"stranger", "owner"}),
    ("GET", "/applications/{pk}"): (None, FILE_READERS),
    ("PATCH", "/applications/{pk}"): ({"purpose": "P"}, {"owner"}),
    ("GET", "/applications/{pk}/perimeter"): (None, FILE_READERS),
    ("POST", "/applications/{pk}/perimeter"): ({"base": "x", "justification": "j"}, {"owner"}),
    ("POST", "/applications/{pk}/submit"): (None, {"owner"}),
    ("POST", "/applications/{pk}/resubmit"): ({"text": ""}, {"owner"}),
    ("POST", "/applications/{pk}/withdraw"): ({"text": ""}, {"owner"}),
    ("POST", "/applications/{pk}/take-up"): (None, {"officer"}),
    ("POST", "/applications/{pk}/admissibility"): ({"decision": "accept"}, {"officer"}),
    ("POST", "/applications/{pk}/committee-opinion"): (
        {"outcome": "favourable", "rationale": "r"},
        # The guichet officer, or the chair of the file (nobody is assigned here).
        {"officer"},
    ),
    ("POST", "/applications/{pk}/decision"): (
        {"outcome": "refused", "rationale": "r"},
        {"regulator"},
    ),
    ("POST", "/applications/{pk}/contract"): (None, {"officer"}),
    ("GET", "/applications/{pk}/messages"): (None, FILE_READERS),
    ("POST", "/applications/{pk}/messages"): ({"body": "Bonjour"}, FILE_READERS),
    ("POST", "/applications/{pk}/publications"): (
        {"title": "T", "kind": "article", "published_on": "2024-01-01", "doi": "10.1000/x"},
        # The project's team, or the guichet.
        {"owner", "officer"},
    ),
    ("GET", "/directory"): (None, EVERYONE),
    ("GET", "/statistics"): (None, EVERYONE),
}


def call(client: Client, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    url = f"/api/access{path}"
    if method == "GET":
        return client.get(url)
    return client.generic(method, url, json.dumps(body or {}), content_type="application/json")


def test_every_route_is_in_the_matrix() -> None:
    routes = {
        (method, path)
        for path, operations in router.path_operations.items()
        for operation in operations.operations
        for method in operation.methods
    }
    assert routes == set(MATRIX)


@pytest.mark.parametrize(("method", "path"), list(MATRIX))
def test_permission_matrix(method: str, path: str) -> None:
    body, allowed = MATRIX[(method, path)]
    team = Staff()
    application = create_application_at(State.SUBMITTED, team=team)
    clients = {
        "anonymous": Client(),
        "stranger": client_for(researcher()),
        "owner": client_for(application.created_by),  # type: ignore[arg-type]
        "officer": client_for(team.officer),
        "reviewer": client_for(team.reviewer),
        "regulator": client_for(team.regulator),
    }
    concrete = path.format(pk=application.pk)
    for actor in ACTORS:
        response = call(clients[actor], method, concrete, body)
        if actor in allowed:
            assert response.status_code not in (401, 403), (actor, response.content)
        else:
            assert response.status_code in (401, 403), (actor, response.status_code)


def test_denials_through_the_api_are_audited() -> None:
    application = create_draft()
    stranger = researcher()
    response = call(client_for(stranger), "GET", f"/applications/{application.pk}")
    assert response.status_code == 403
    assert AuditEvent.objects.filter(action="permission.denied", actor_id=str(stranger.pk)).exists()


@pytest.mark.parametrize(
    "body",
    [
        {"title": ""},
        {"title": "x" * 301},
        {"title": 42},
        {"title": "T", "legal_route": "mr999"},
        {"title": "T", "state": "authorised"},
        {"title": ["a"]},
    ],
)
def test_hostile_creations_are_refused_with_422(body: dict[str, Any]) -> None:
    response = call(client_for(researcher()), "POST", "/applications", body)
    assert response.status_code == 422
    assert not Application.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"duration_months": "douze"},
        {"duration_months": 100000},
        {"purpose": "x" * 10001},
        {"period_start": "2020-13-45"},
        {"period_start": "2022-01-01", "period_end": "2020-01-01"},
        {"state": "authorised"},
        {"created_by": 1},
    ],
)
def test_hostile_patches_are_refused_and_change_nothing(body: dict[str, Any]) -> None:
    application = create_draft(complete=False)
    client = client_for(application.created_by)  # type: ignore[arg-type]
    response = call(client, "PATCH", f"/applications/{application.pk}", body)
    assert response.status_code == 422, response.content
    application.refresh_from_db()
    assert application.state == State.DRAFT
    assert application.purpose == ""


def test_wrong_state_is_a_clear_409() -> None:
    application = create_application_at(State.SUBMITTED)
    client = client_for(application.created_by)  # type: ignore[arg-type]
    response = call(client, "PATCH", f"/applications/{application.pk}", {"purpose": "Autre"})
    assert response.status_code == 409
    assert "modifiée" in response.json()["detail"]


@pytest.mark.parametrize("pk", ["0", "-1", "abc", "99999999999999999999999999"])
def test_malformed_ids(pk: str) -> None:
    response = client_for(researcher()).get(f"/api/access/applications/{pk}")
    assert response.status_code in (404, 422)


def test_a_complete_draft_submits_through_the_api(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.factories.catalog import create_test_base, import_small

    base = create_test_base()
    import_small(base, tmp_path / "s")
    application = create_draft()
    client = client_for(application.created_by)  # type: ignore[arg-type]
    added = call(
        client,
        "POST",
        f"/applications/{application.pk}/perimeter",
        {
            "base": base.slug,
            "table": "SEJOUR",
            "variables": ["SEJ_DTE"],
            "justification": "Délais d'hospitalisation.",
        },
    )
    assert added.status_code == 201, added.content
    unknown = call(
        client,
        "POST",
        f"/applications/{application.pk}/perimeter",
        {"base": base.slug, "table": "SEJOUR", "variables": ["NOPE"], "justification": "j"},
    )
    assert unknown.status_code == 422
    submitted = call(client, "POST", f"/applications/{application.pk}/submit")
    assert submitted.status_code == 200
    assert submitted.json()["state"] == "submitted"
    listing = call(Client(), "GET", "/directory").json()
    assert listing["projects"][0]["reference"] == application.project.reference
