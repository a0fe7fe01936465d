"""Fixtures of the airlock's tests: an open workspace with outputs, members and checkers.

Outputs are written the way a job writes them (a file under ``HDH_WORKSPACES``
and a ``workspace.Output`` row); everything else goes through the real services.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from hdh.access.states import State as ApplicationState
from hdh.accounts.models import User
from hdh.airlock import services
from hdh.airlock.models import ReleaseRequest, RequestFile
from hdh.airlock.states import FileKind, Vote
from hdh.core import clock
from hdh.core.governance import service_writes
from hdh.core.permissions import Role
from hdh.workspace.models import Job, JobKind, JobStatus, Output, Workspace
from tests.factories.access import create_application_at, staff

SMALL_CELL = b"region,hommes,femmes\nNord,120,4\nSud,85,60\nEst,40,33\n"
SAFE_TABLE = b"region,hommes,femmes\nNord,120,15\nSud,85,60\nEst,40,33\n"
CONTEXT = "Effectifs de patients diabétiques par région et sexe, 2018-2022."
CONTROLS = "Cellules de moins de 11 masquées ; arrondi à 5."


@pytest.fixture(autouse=True)
def _airlock_stores(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.HDH_WORKSPACES = tmp_path / "workspaces"
    settings.HDH_AIRLOCK = tmp_path / "airlock"
    settings.HDH_AIRLOCK_POLICY = ""


@dataclass
class Project:
    """An authorised project with an open workspace, its lead, and three output checkers."""

    workspace: Workspace
    lead: User
    checkers: list[User] = field(default_factory=list)

    def output(self, name: str, content: bytes) -> Output:
        """Write ``content`` as the job output ``name`` (superseding an earlier one)."""
        number = Job.objects.filter(workspace=self.workspace).count() + 1
        relative = Path(self.workspace.reference) / f"job-{number}" / "outputs" / name
        path = Path(django_settings.HDH_WORKSPACES) / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        with service_writes():
            job = Job.objects.create(
                workspace=self.workspace,
                number=number,
                kind=JobKind.PYTHON,
                name="analyse.py",
                script="print('ok')",
                script_sha256=hashlib.sha256(b"print('ok')").hexdigest(),
                status=JobStatus.SUCCEEDED,
                submitted_by=self.lead,
            )
            Output.objects.filter(
                workspace=self.workspace, name=name, superseded_at__isnull=True
            ).update(superseded_at=clock.now())
            return Output.objects.create(
                workspace=self.workspace,
                job=job,
                name=name,
                path=str(relative),
                size=len(content),
                sha256=hashlib.sha256(content).hexdigest(),
                media_type="text/csv",
            )

    def request_with(
        self, *files: tuple[str, bytes], kind: str = FileKind.OUTPUT
    ) -> ReleaseRequest:
        """A pending request holding ``files`` in one described group."""
        request = services.create_request(by=self.lead, workspace=self.workspace)
        for name, content in files:
            services.add_file(
                by=self.lead,
                request=request,
                output=self.output(name, content),
                group="tables",
                kind=kind,
            )
        services.save_group(
            by=self.lead, request=request, name="tables", context=CONTEXT, controls=CONTROLS
        )
        return request

    def submitted(self, *files: tuple[str, bytes]) -> ReleaseRequest:
        request = self.request_with(*(files or (("table.csv", SAFE_TABLE),)))
        services.submit(by=self.lead, request=request)
        request.refresh_from_db()
        return request

    def review(self, request: ReleaseRequest, checker: User, decision: str = Vote.APPROVED) -> None:
        for file in RequestFile.objects.filter(request=request, kind=FileKind.OUTPUT):
            services.vote(by=checker, file=file, decision=decision)
        services.submit_review(by=checker, request=request)
        request.refresh_from_db()

    def reviewed(self, *files: tuple[str, bytes], decision: str = Vote.APPROVED) -> ReleaseRequest:
        request = self.submitted(*files)
        self.review(request, self.checkers[0], decision)
        self.review(request, self.checkers[1], decision)
        return request


def open_project(lead: User | None = None) -> Project:
    application = create_application_at(ApplicationState.AUTHORISED, by=lead)
    permit = application.permit
    lead = application.created_by
    assert lead is not None
    with service_writes():
        workspace = Workspace.objects.create(
            reference=f"ESP-{application.project.reference}"[:24],
            project=application.project,
            permit=permit,
        )
    checkers = [staff(Role.OUTPUT_CHECKER) for _ in range(3)]
    return Project(workspace=workspace, lead=lead, checkers=checkers)


@pytest.fixture
def project(db) -> Project:  # type: ignore[no-untyped-def]
    return open_project()
