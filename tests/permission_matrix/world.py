"""The objects every route of the matrix is requested on, built once per module.

One authorised project (``own``) whose data preparation published a dataset, whose
workspace is open with a job, an output and a submitted release request; a second
project whose lead is the "foreign" researcher; one account per staff role. The
real services build everything (tests/factories, tests/workspace/factories), the
same way the other suites do.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from django.test import Client

from hdh.access.models import Application, PerimeterItem, Permit, QuestionVersion, TeamMember
from hdh.access.services import publications
from hdh.access.states import State
from hdh.accounts import services as accounts
from hdh.accounts import tokens, totp
from hdh.accounts.authorization import user_roles
from hdh.accounts.models import ApiToken, User
from hdh.airlock.models import ReleaseRequest, RequestFile
from hdh.catalog.models import Base
from hdh.citizens import services as citizens
from hdh.citizens.models import RightsKind, RightsRequest
from hdh.core.permissions import Role
from hdh.lake.models import DatasetVersion, Deposit, VariableProfile
from hdh.lake.services import ingest
from hdh.preparation import linkages
from hdh.preparation.models import ExtractionPlan, LinkageRun, PreparationRun, ProjectDataset
from hdh.synth import snds
from hdh.workspace import jobs
from hdh.workspace.models import Job, Output, Workspace
from tests.accounts.helpers import sign_in
from tests.airlock.conftest import SAFE_TABLE
from tests.airlock.conftest import Project as AirlockProject
from tests.factories.access import create_application_at, staff
from tests.factories.accounts import UserFactory
from tests.factories.lake import create_producer, create_snds_base
from tests.preparation.linkage_world import make_cohort
from tests.workspace.factories import create_project, researcher

# Who asks. "member" is a project member with no platform role; "lead" the project's
# scientific lead (a researcher, who filed the application); "foreign" the lead of
# another project; "researcher" a researcher with no project; "citizen" an account
# with no role at all; "producer" belongs to the organisation holding the base the
# catalog and lake routes are asked about, "other_producer" to another one.
PROFILED_TABLE = "IR_BEN_R"
ACTORS = (
    "anonymous",
    "citizen",
    "researcher",
    "member",
    "lead",
    "foreign",
    "officer",
    "committee",
    "regulator",
    "engineer",
    "checker",
    "producer",
    "other_producer",
    "auditor",
    "admin",
)
STAFF_ROLE = {
    "officer": Role.GUICHET_OFFICER,
    "committee": Role.COMMITTEE_MEMBER,
    "regulator": Role.REGULATOR,
    "engineer": Role.DATA_ENGINEER,
    "checker": Role.OUTPUT_CHECKER,
    "producer": Role.DATA_PRODUCER,
    "auditor": Role.AUDITOR,
    "admin": Role.ADMINISTRATOR,
}


@dataclass
class World:
    base: Base
    application: Application
    permit: Permit
    plan: ExtractionPlan
    run: PreparationRun
    dataset: ProjectDataset
    linkage: LinkageRun
    workspace: Workspace
    job: Job
    output: Output
    release: ReleaseRequest
    release_file: RequestFile
    deposit: Deposit
    version: DatasetVersion
    rights: RightsRequest
    token: ApiToken
    people: dict[str, User | None]
    values: dict[str, Any] = field(default_factory=dict)
    clients: dict[str, Client] = field(default_factory=dict)


def build(root: Path, synthetic: snds.SndsResult) -> World:
    project = create_project(root, synthetic)
    application, permit = project.application, project.permit
    team = project.team
    workspace = project.workspace()
    job = jobs.submit_job(
        workspace=workspace, kind="sql", name="compte.sql", script="SELECT 1", by=project.lead
    )
    airlock = AirlockProject(workspace=workspace, lead=project.lead)
    output = airlock.output("effectifs.csv", SAFE_TABLE)
    checker = staff(Role.OUTPUT_CHECKER)
    release = airlock.submitted(("tableau.csv", SAFE_TABLE))
    release_file = RequestFile.objects.filter(request=release).first()
    assert release_file is not None

    engineer = team.engineer
    plan = ExtractionPlan.objects.filter(permit=permit).latest("pk")
    run = PreparationRun.objects.filter(plan=plan).latest("pk")
    cohort, _truth = make_cohort(synthetic, size=20)
    linkage = linkages.request_linkage(
        permit=permit, chunks=[cohort], name="cohorte.csv", by=engineer
    )

    foreign_application = create_application_at(State.CONTRACT_SIGNED, base=project.base)
    publication = publications.add(
        by=project.lead,
        project=application.project,
        title="Parcours de soins",
        kind="article",
        published_on=dt.date(2026, 1, 5),
        doi="10.1000/matrice",
    )
    rights = citizens.file_rights_request(
        kind=RightsKind.ACCESS,
        message="Quelles données me concernent ?",
        last_name="Martin",
        first_name="Camille",
        birth_date=dt.date(1970, 5, 1),
        email="camille@exemple.fr",
    )
    token, _raw = tokens.create_token(by=project.lead, owner=project.lead, label="matrice")

    people: dict[str, User | None] = {
        "anonymous": None,
        "citizen": UserFactory(),
        "researcher": researcher(),
        "member": project.member,
        "lead": project.lead,
        "foreign": foreign_application.created_by,
        "officer": team.officer,
        "committee": team.reviewer,
        "regulator": team.regulator,
        "engineer": engineer,
        "checker": checker,
        "producer": create_producer(),
        "other_producer": create_producer(),
        "auditor": staff(Role.AUDITOR),
        "admin": staff(Role.ADMINISTRATOR),
    }
    # A new version of one table, deposited with its profiles (the project's load
    # skips them; depositing the same file again would give back the same version).
    subset = root / f"{PROFILED_TABLE}.parquet"
    pq.write_table(
        pq.read_table(synthetic.folder / PROFILED_TABLE / "part-00000.parquet").slice(0, 250),
        subset,
    )
    # The catalog and lake routes are asked about a base held by the producer's organisation.
    producer = people["producer"]
    assert producer is not None
    held = create_snds_base(
        root / "held", slug="snds-producteur", holder_organisation=producer.organisation
    )
    deposit = ingest(base=held, table=PROFILED_TABLE, files=[subset], by=producer)
    version = deposit.version
    assert version is not None
    profile = VariableProfile.objects.filter(version=version).order_by("pk").first()
    assert profile is not None
    catalog_version = held.current_version
    assert catalog_version is not None
    table = catalog_version.tables.get(name=version.table_name)
    code_list = catalog_version.code_lists.order_by("pk").first()
    assert code_list is not None
    member_row = TeamMember.objects.get(application=application, user=project.member)
    world = World(
        base=project.base,
        application=application,
        permit=permit,
        plan=plan,
        run=run,
        dataset=project.dataset,
        linkage=linkage,
        workspace=workspace,
        job=job,
        output=output,
        release=release,
        release_file=release_file,
        deposit=deposit,
        version=version,
        rights=rights,
        token=token,
        people=people,
    )
    world.values = {
        "slug": held.slug,
        "base": held.pk,
        "table": table.name,
        "variable": profile.variable_name,
        "name": code_list.name,
        "number": version.number,
        "reference": deposit.reference,
        "item": PerimeterItem.objects.filter(application=application).first().pk,  # type: ignore[union-attr]
        "member": member_row.pk,
        "publication": publication.pk,
        "key": QuestionVersion.objects.filter(current=True).order_by("pk").first().key,  # type: ignore[union-attr]
        "step": "close",
        "ref": workspace.reference,
        "workspace_pk": workspace.pk,
        "file_pk": release_file.pk,
        # form fields
        "output": output.pk,
        "reviewer": team.reviewer.pk,
        "file": release_file.pk,
        "username": people["researcher"].username,  # type: ignore[union-attr]
    }
    for actor, role in STAFF_ROLE.items():
        assert role in user_roles(people[actor]), (actor, role)
    for actor, user in people.items():
        world.clients[actor] = signed_in(user)
    return world


def signed_in(user: User | None) -> Client:
    """A client signed in as ``user`` through the real pages, second factor passed."""
    client = Client(raise_request_exception=False)
    if user is not None:
        if not hasattr(user, "totp_device"):
            accounts.enrol_confirmed_totp(by=None, user=user, secret=totp.new_secret())
            user.refresh_from_db()
        sign_in(client, user)
    return client
