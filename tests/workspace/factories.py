"""Drive the real services to an open workspace on a prepared project dataset."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hdh.access.models import Application, Permit
from hdh.access.services import team
from hdh.access.states import State
from hdh.accounts.models import User
from hdh.catalog.models import Base
from hdh.core.permissions import ProjectRole, Role
from hdh.preparation import services as preparation
from hdh.preparation.models import ProjectDataset
from hdh.synth import snds
from hdh.workspace import services
from hdh.workspace.models import Job, Workspace
from tests.factories.access import Staff, _step, create_application_at, create_draft, path_to
from tests.factories.accounts import UserFactory
from tests.factories.lake import create_snds_base
from tests.preparation.conftest import load_snds
from tests.preparation.helpers import approved_plan


@dataclass
class Project:
    base: Base
    application: Application
    permit: Permit
    dataset: ProjectDataset
    lead: User  # scientific lead, filed the application
    member: User  # plain project member, no platform role
    team: Staff

    def workspace(self, by: User | None = None) -> Workspace:
        return services.workspace_for(permit=self.permit, by=by or self.lead)


def researcher(**kwargs: Any) -> User:
    user: User = UserFactory(roles=[Role.RESEARCHER], **kwargs)
    return user


def create_project(tmp_path: Path, result: snds.SndsResult) -> Project:
    """An authorised project (lead + member) with a published dataset, workspace not yet open."""
    base = create_snds_base(tmp_path / "schema", slug="snds")
    load_snds(result, base)
    staff = Staff()
    lead = researcher()
    member: User = UserFactory()
    application = create_draft(by=lead, base=base)
    team.add_member(by=lead, application=application, user=member, role=ProjectRole.MEMBER)
    for target in path_to(State.CONTRACT_SIGNED):
        _step(application, target, staff)
    permit = Permit.objects.get(application=application)
    plan = approved_plan(permit, staff.engineer)
    run = preparation.start_run(plan=plan, by=staff.engineer)
    done = preparation.execute_run(run.pk)
    assert done is not None
    assert done.status == "succeeded", done.error
    preparation.open_workspace(plan=plan, by=staff.engineer)
    application.refresh_from_db()
    permit.refresh_from_db()
    dataset = ProjectDataset.objects.get(permit=permit, superseded_at__isnull=True)
    return Project(base, application, permit, dataset, lead, member, staff)


def other_project_member(project: Project) -> User:
    """The lead of another authorised project on the same base."""
    application = create_application_at(State.CONTRACT_SIGNED, base=project.base)
    assert application.created_by is not None
    return application.created_by


def run_job(workspace: Workspace, by: User, *, kind: str, name: str, script: str) -> Job:
    """Submit then execute synchronously (what the worker does)."""
    job = services.submit_job(workspace=workspace, kind=kind, name=name, script=script, by=by)
    return services.execute_job(job.pk)
