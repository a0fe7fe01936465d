"""The airlock's pages: the project side, the checkers' side, and no download of anything
unreleased by any URL."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, reverse

from hdh.accounts.models import User
from hdh.airlock import services, urls
from hdh.airlock.models import ReleaseRequest, RequestFile
from hdh.airlock.states import FileKind, State, Vote
from hdh.audit.models import AuditEvent
from tests.access.helpers import client_for
from tests.airlock.conftest import CONTROLS, SAFE_TABLE, SMALL_CELL, Project
from tests.airlock.test_requests import png
from tests.factories.access import researcher

pytestmark = pytest.mark.django_db

MARKER = b"region,hommes,femmes\nNord,120,15\nSud,85,60\nMarqueur,40,33\n"


def _get(client: Client, name: str, **kwargs: Any) -> Any:
    return client.get(reverse(f"airlock:{name}", kwargs=kwargs))


# --- The project side -----------------------------------------------------------------


def test_a_member_prepares_and_submits_a_request_from_the_pages(project: Project) -> None:
    client = client_for(project.lead)
    output = project.output("table.csv", SMALL_CELL)
    page = _get(client, "workspace", workspace_pk=project.workspace.pk)
    assert page.status_code == 200
    created = client.post(reverse("airlock:workspace", args=[project.workspace.pk]))
    request = ReleaseRequest.objects.get()
    assert created.status_code == 302
    assert created["Location"] == request.get_absolute_url()
    detail = client.get(request.get_absolute_url())
    assert f'data-output="{output.name}"'.encode() in detail.content
    added = client.post(
        reverse("airlock:add_file", args=[request.pk]),
        {"output": output.pk, "group": "tableaux", "kind": "output"},
    )
    assert added.status_code == 302
    refused = client.post(reverse("airlock:submit", args=[request.pk]))
    assert refused.status_code == 422
    assert "contexte et les contrôles" in refused.content.decode()
    saved = client.post(
        reverse("airlock:save_group", args=[request.pk]),
        {"name": "tableaux", "context": "<script>alert('x')</script>", "controls": CONTROLS},
    )
    assert saved.status_code == 302
    html = client.get(request.get_absolute_url()).content.decode()
    assert "<script>alert(" not in html
    assert "&lt;script&gt;alert(" in html
    file = RequestFile.objects.get()
    review_page = _get(client, "file", pk=request.pk, file_pk=file.pk).content.decode()
    # The cell of 4, highlighted, with its rule and the suggested suppression.
    cell = re.search(
        r'<td data-verdict="fail"[^>]*>\s*4\s*<br><span[^>]*data-rule="threshold"', review_page
    )
    assert cell, review_page
    assert "moins de 11 unités" in review_page
    assert "masquer" in review_page
    submitted = client.post(reverse("airlock:submit", args=[request.pk]))
    assert submitted.status_code == 302
    request.refresh_from_db()
    assert request.state == State.SUBMITTED


def test_a_member_replaces_a_file_and_resubmits(project: Project) -> None:
    request = project.submitted(("table.csv", SMALL_CELL))
    file = request.files.get()
    for checker in project.checkers[:2]:
        services.vote(by=checker, file=file, decision=Vote.CHANGES_REQUESTED)
        services.submit_review(by=checker, request=request)
    services.comment(by=project.checkers[0], request=request, text="Masquer le 4.", file=file)
    services.return_to_requester(by=project.checkers[0], request=request)
    client = client_for(project.lead)
    detail = client.get(request.get_absolute_url()).content.decode()
    assert "Masquer le 4." in detail
    project.output("table.csv", SAFE_TABLE)
    detail = client.get(request.get_absolute_url()).content.decode()
    assert reverse("airlock:replace", args=[request.pk, file.pk]) in detail
    assert client.post(reverse("airlock:replace", args=[request.pk, file.pk])).status_code == 302
    assert client.post(reverse("airlock:submit", args=[request.pk])).status_code == 302
    request.refresh_from_db()
    assert (request.state, request.turn) == (State.SUBMITTED, 2)


def test_hostile_form_input_gets_a_clear_error(project: Project) -> None:
    request = project.request_with(("table.csv", SAFE_TABLE))
    client = client_for(project.lead)
    for url, data in (
        (reverse("airlock:add_file", args=[request.pk]), {"output": "x", "group": "g"}),
        (reverse("airlock:add_file", args=[request.pk]), {"output": 2**70, "group": "g"}),
        (reverse("airlock:save_group", args=[request.pk]), {"name": "g", "context": "a\x00b"}),
        (reverse("airlock:comment", args=[request.pk]), {"text": "x" * 6000}),
        (reverse("airlock:comment", args=[request.pk]), {"text": "a\x00b"}),
        (reverse("airlock:kind", args=[request.pk, request.files.get().pk]), {"kind": "code"}),
    ):
        response = client.post(url, data)
        assert response.status_code in (404, 422), (url, response.status_code)
    assert client.get(f"/sas/{2**63}/").status_code == 404
    assert client.get(f"/sas/{request.pk}/fichiers/{2**63}/").status_code == 404


def test_an_outputs_of_another_workspace_cannot_be_added_by_id(project: Project) -> None:
    from tests.airlock.conftest import open_project

    request = project.request_with(("table.csv", SAFE_TABLE))
    foreign = open_project().output("secret.csv", SAFE_TABLE)
    client = client_for(project.lead)
    response = client.post(
        reverse("airlock:add_file", args=[request.pk]),
        {"output": foreign.pk, "group": "g", "kind": "output"},
    )
    assert response.status_code == 404
    assert request.files.count() == 1


# --- The checkers' side ---------------------------------------------------------------


def test_the_queue_lists_submitted_requests_for_checkers_outside_the_project(
    project: Project,
) -> None:
    pending = project.request_with(("table.csv", SAFE_TABLE))
    checker = client_for(project.checkers[0])
    assert pending.reference not in checker.get(reverse("airlock:queue")).content.decode()
    services.submit(by=project.lead, request=pending)
    assert pending.reference in checker.get(reverse("airlock:queue")).content.decode()
    assert client_for(project.lead).get(reverse("airlock:queue")).status_code == 403
    assert client_for(researcher()).get(reverse("airlock:queue")).status_code == 403


def test_two_checkers_review_from_the_pages_and_approve(project: Project) -> None:
    request = project.submitted(("table.csv", SAFE_TABLE))
    file = request.files.get()
    first, second = (client_for(c) for c in project.checkers[:2])
    page = _get(first, "detail", pk=request.pk).content.decode()
    assert "Examen indépendant" in page
    for client in (first, second):
        voted = client.post(
            reverse("airlock:vote", args=[request.pk, file.pk]), {"decision": "approved"}
        )
        assert voted.status_code == 302
        # Blinded: the other checker's vote is not on the page.
        file_page = _get(client, "file", pk=request.pk, file_pk=file.pk).content.decode()
        assert file_page.count('data-vote="approved"') == 1
        assert client.post(reverse("airlock:submit_review", args=[request.pk])).status_code == 302
    file_page = _get(first, "file", pk=request.pk, file_pk=file.pk).content.decode()
    assert file_page.count('data-vote="approved"') == 2
    detail = _get(first, "detail", pk=request.pk).content.decode()
    assert 'id="approve-request"' in detail
    assert first.post(reverse("airlock:approve", args=[request.pk])).status_code == 302
    request.refresh_from_db()
    assert request.state == State.RELEASED


def test_a_checker_sees_images_inline_and_the_results_json(project: Project) -> None:
    request = project.submitted(("figure.png", png()), ("table.csv", SMALL_CELL))
    client = client_for(project.checkers[0])
    figure = request.files.get(name="figure.png")
    page = _get(client, "file", pk=request.pk, file_pk=figure.pk)
    assert page["Content-Type"].startswith("text/html")
    assert 'src="data:image/png;base64,' in page.content.decode()
    table = request.files.get(name="table.csv")
    results = _get(client, "results", pk=request.pk, file_pk=table.pk)
    assert results["Content-Type"].startswith("text/html")
    assert "MinimumThresholdCheck" in results.content.decode()
    assert AuditEvent.objects.filter(action="airlock.file.viewed").exists()


def test_private_comments_are_never_shown_to_the_project(project: Project) -> None:
    request = project.reviewed(decision=Vote.CHANGES_REQUESTED)
    checker = client_for(project.checkers[0])
    file = request.files.get()
    checker.post(
        reverse("airlock:comment", args=[request.pk]),
        {"text": "Entre nous.", "visibility": "private", "file": file.pk},
    )
    checker.post(
        reverse("airlock:comment", args=[request.pk]),
        {"text": "Arrondir à 5.", "visibility": "public", "file": file.pk},
    )
    assert checker.post(reverse("airlock:return", args=[request.pk])).status_code == 302
    html = client_for(project.lead).get(request.get_absolute_url()).content.decode()
    assert "Arrondir à 5." in html
    assert "Entre nous." not in html


# --- Nothing unreleased leaves, by any URL ----------------------------------------------


def _patterns() -> list[URLPattern]:
    return [p for p in urls.urlpatterns if isinstance(p, URLPattern)]


def _every_get(client: Client, request: ReleaseRequest, file: RequestFile) -> list[Any]:
    responses = []
    for pattern in _patterns():
        kwargs = {}
        for name in pattern.pattern.converters:
            kwargs[name] = {
                "pk": request.pk,
                "file_pk": file.pk,
                "workspace_pk": request.workspace_id,
            }[name]
        responses.append(
            (pattern.name, client.get(reverse(f"airlock:{pattern.name}", kwargs=kwargs)))
        )
    return responses


def _assert_no_file_leaves(responses: list[Any], content: bytes) -> None:
    for name, response in responses:
        assert "Content-Disposition" not in response, name
        if response.status_code == 200:
            assert response["Content-Type"].startswith("text/html"), name
            assert content not in response.content, name


@pytest.mark.parametrize("state", [State.PENDING, State.SUBMITTED, State.REVIEWED, State.RETURNED])
def test_no_url_serves_an_unreleased_file_to_anyone(project: Project, state: State) -> None:
    if state == State.PENDING:
        request = project.request_with(("table.csv", MARKER))
    else:
        request = project.submitted(("table.csv", MARKER))
    if state in (State.REVIEWED, State.RETURNED):
        project.review(request, project.checkers[0])
        project.review(request, project.checkers[1])
    if state == State.RETURNED:
        services.return_to_requester(by=project.checkers[0], request=request)
    file = request.files.get()
    people: list[User | None] = [project.lead, *project.checkers[:2], researcher(), None]
    for person in people:
        client = client_for(person) if person is not None else Client()
        _assert_no_file_leaves(_every_get(client, request, file), MARKER)
        response = _get(client, "download", pk=request.pk, file_pk=file.pk)
        assert response.status_code in (404, 302), response.status_code
        if person is not None:
            assert response.status_code == 404


def test_every_url_pattern_is_covered_by_the_leak_test() -> None:
    names = {p.name for p in _patterns()}
    assert "download" in names
    assert len(names) == len(_patterns())
    # Only the download view may answer with a file; it is checked above and below.
    assert all(
        p.pattern.converters.keys() <= {"pk", "file_pk", "workspace_pk"} for p in _patterns()
    )


def test_a_released_file_downloads_for_members_only(project: Project) -> None:
    request = project.request_with(("table.csv", SAFE_TABLE))
    services.add_file(
        by=project.lead,
        request=request,
        output=project.output("code.txt", b"SELECT 1\n"),
        group="tables",
        kind=FileKind.SUPPORTING,
    )
    services.submit(by=project.lead, request=request)
    project.review(request, project.checkers[0])
    project.review(request, project.checkers[1])
    services.approve(by=project.checkers[0], request=request)
    table = request.files.get(name="table.csv")
    supporting = request.files.get(name="code.txt")
    member = client_for(project.lead)
    response = _get(member, "download", pk=request.pk, file_pk=table.pk)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="table.csv"'
    assert hashlib.sha256(response.content).hexdigest() == response["X-Content-SHA256"]
    assert response.content == SAFE_TABLE
    assert _get(member, "download", pk=request.pk, file_pk=supporting.pk).status_code == 404
    assert _get(member, "download", pk=request.pk + 1, file_pk=table.pk).status_code == 404
    for person in (project.checkers[0], researcher()):
        assert (
            _get(client_for(person), "download", pk=request.pk, file_pk=table.pk).status_code == 404
        )
    assert Client().get(reverse("airlock:download", args=[request.pk, table.pk])).status_code == 302
    assert AuditEvent.objects.filter(action="airlock.downloaded").count() == 1
    detail = member.get(request.get_absolute_url()).content.decode()
    assert hashlib.sha256(SAFE_TABLE).hexdigest() in detail


def test_a_non_member_sees_nothing_of_a_request(project: Project) -> None:
    request = project.request_with(("table.csv", SAFE_TABLE))
    file = request.files.get()
    outsider = client_for(researcher())
    for name, kwargs in (
        ("detail", {"pk": request.pk}),
        ("file", {"pk": request.pk, "file_pk": file.pk}),
        ("results", {"pk": request.pk, "file_pk": file.pk}),
        ("workspace", {"workspace_pk": request.workspace_id}),
    ):
        assert _get(outsider, name, **kwargs).status_code == 404
    assert AuditEvent.objects.filter(action="permission.denied").exists()


def test_an_approval_whose_copy_fails_says_so_and_stays_approved(project: Project) -> None:
    import os

    from hdh.airlock import storage

    request = project.reviewed()
    copy = storage.copy_path(request.files.get().sha256)
    os.chmod(copy, 0o640)
    copy.write_bytes(b"region,n\nNord,4\n")
    response = client_for(project.checkers[0]).post(reverse("airlock:approve", args=[request.pk]))
    assert response.status_code == 503
    assert "release-approved" in response.content.decode()
    request.refresh_from_db()
    assert request.state == State.APPROVED
