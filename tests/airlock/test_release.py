"""Release: only approved output files, copied with their checksums, served re-verified."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import pytest
from django.conf import settings

from hdh.airlock import services, storage, workflow
from hdh.airlock.models import ReleasedFile
from hdh.airlock.states import FileKind, State
from hdh.audit.models import AuditEvent
from hdh.core.errors import InvalidState, NotAllowed
from hdh.core.governance import service_writes
from tests.airlock.conftest import SAFE_TABLE, Project
from tests.factories.access import researcher

pytestmark = pytest.mark.django_db


def approved_with_supporting(project: Project) -> Any:
    request = project.request_with(("table.csv", SAFE_TABLE))
    services.add_file(
        by=project.lead,
        request=request,
        output=project.output("code.txt", b"SELECT region, count(*) FROM t GROUP BY 1\n"),
        group="tables",
        kind=FileKind.SUPPORTING,
    )
    services.submit(by=project.lead, request=request)
    project.review(request, project.checkers[0])
    project.review(request, project.checkers[1])
    return request


def test_release_copies_only_output_files_with_their_checksums(project: Project) -> None:
    request = approved_with_supporting(project)
    services.approve(by=project.checkers[0], request=request)
    assert request.state == State.RELEASED
    assert request.released_at is not None
    released = ReleasedFile.objects.get()
    assert released.file.kind == FileKind.OUTPUT
    assert released.sha256 == hashlib.sha256(SAFE_TABLE).hexdigest() == released.file.sha256
    assert released.size == len(SAFE_TABLE)
    path = storage.released_path(request.pk, released.file_id)
    assert path.read_bytes() == SAFE_TABLE
    assert path.resolve().is_relative_to(settings.HDH_AIRLOCK.resolve())
    supporting = request.files.get(kind=FileKind.SUPPORTING)
    assert (
        not hasattr(supporting, "released")
        or not ReleasedFile.objects.filter(file=supporting).exists()
    )
    assert not storage.released_path(request.pk, supporting.pk).exists()
    event = AuditEvent.objects.get(action="airlock.file.released")
    assert event.details["sha256"] == storage.audit_digest(released.sha256)


def test_a_member_downloads_the_released_bytes_and_it_is_audited(project: Project) -> None:
    request = project.reviewed()
    services.approve(by=project.checkers[0], request=request)
    released = ReleasedFile.objects.get()
    data = services.open_released(by=project.lead, released=released)
    assert hashlib.sha256(data).hexdigest() == released.sha256
    event = AuditEvent.objects.get(action="airlock.downloaded")
    assert event.details == {
        "request": request.reference,
        "sha256": storage.audit_digest(released.sha256),
        "size": len(SAFE_TABLE),
    }


@pytest.mark.parametrize("who", ["checker", "outsider"])
def test_people_outside_the_project_cannot_download(project: Project, who: str) -> None:
    request = project.reviewed()
    services.approve(by=project.checkers[0], request=request)
    person = project.checkers[0] if who == "checker" else researcher()
    with pytest.raises(NotAllowed):
        services.open_released(by=person, released=ReleasedFile.objects.get())
    assert not AuditEvent.objects.filter(action="airlock.downloaded").exists()


def test_a_tampered_release_is_not_served(project: Project) -> None:
    request = project.reviewed()
    services.approve(by=project.checkers[0], request=request)
    released = ReleasedFile.objects.get()
    path = storage.released_path(request.pk, released.file_id)
    os.chmod(path, 0o640)
    path.write_bytes(SAFE_TABLE.replace(b"15", b"4"))
    with pytest.raises(storage.CorruptFile):
        services.open_released(by=project.lead, released=released)
    assert not AuditEvent.objects.filter(action="airlock.downloaded").exists()


def test_a_tampered_review_copy_is_not_released(project: Project) -> None:
    request = project.reviewed()
    copy = storage.copy_path(request.files.get().sha256)
    os.chmod(copy, 0o640)
    copy.write_bytes(b"region,n\nNord,4\n")
    with pytest.raises(storage.CorruptFile):
        services.approve(by=project.checkers[0], request=request)
    request.refresh_from_db()
    assert request.state == State.APPROVED
    assert not ReleasedFile.objects.exists()


def test_a_release_left_approved_finishes_when_run_again(project: Project) -> None:
    request = project.reviewed()
    workflow.transition(request, to=State.APPROVED, by=project.checkers[0])
    with pytest.raises(NotAllowed):
        workflow.transition(request, to=State.RELEASED, by=project.checkers[0])
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("airlock", "release-approved", stdout=out)
    request.refresh_from_db()
    assert request.state == State.RELEASED
    assert request.reference in out.getvalue()


def test_a_failed_audit_write_releases_nothing(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = project.reviewed()
    workflow.transition(request, to=State.APPROVED, by=project.checkers[0])

    def broken(**_: Any) -> None:
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(services.audit, "record", broken)
    with pytest.raises(RuntimeError):
        services.release(request=request)
    request.refresh_from_db()
    assert request.state == State.APPROVED
    assert not ReleasedFile.objects.exists()


def test_only_an_approved_request_is_released(project: Project) -> None:
    request = project.reviewed()
    with pytest.raises(InvalidState):
        services.release(request=request)
    assert not ReleasedFile.objects.exists()


def test_an_unreleased_file_cannot_be_opened_as_released(project: Project) -> None:
    request = project.reviewed()
    services.approve(by=project.checkers[0], request=request)
    released = ReleasedFile.objects.get()
    with service_writes():
        type(request).objects.filter(pk=request.pk).update(state=State.APPROVED)
    released.refresh_from_db()
    with pytest.raises(InvalidState):
        services.open_released(by=project.lead, released=released)
