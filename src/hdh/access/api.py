"""The guichet's REST API: the same services as the pages, the same permission checks."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from hdh.access import directory, queries
from hdh.access.models import Application, DecisionOutcome, OpinionOutcome, PublicationKind
from hdh.access.services import (
    applications,
    decisions,
    messages,
    perimeter,
    publications,
    reviews,
)
from hdh.access.states import LegalRoute
from hdh.accounts.authorization import has_permission
from hdh.accounts.models import User
from hdh.catalog.models import Base, Table
from hdh.core.api import SIGNED_IN, links, omittable, refusals
from hdh.core.errors import NotAllowed, ValidationFailed
from hdh.core.permissions import Permission

router = Router(tags=["access"])
TEXT = 10000
MAX_ID = 2**62
# A required text holds more than blanks (the services strip it).
NOT_BLANK = r"\S"
# What a route on one application may refuse: no sign-in, not allowed, no such file, bad
# input; a step of the workflow may also find the file in the wrong state.
READ = refusals(401, 403, 404, 422)
ACT = refusals(401, 403, 404, 409, 422)
# The routes on one file, reached from a file the caller created or listed (OpenAPI links).
_ON_FILE = (
    "hdh_access_api_get_application",
    "hdh_access_api_update_application",
    "hdh_access_api_get_perimeter",
    "hdh_access_api_add_perimeter",
    "hdh_access_api_submit",
    "hdh_access_api_resubmit",
    "hdh_access_api_withdraw",
    "hdh_access_api_list_messages",
    "hdh_access_api_post_message",
    "hdh_access_api_add_publication",
)


class ApplicationOut(Schema):
    id: int
    reference: str
    title: str
    state: str
    legal_route: str
    holder: str
    stage: str
    stage_due_at: dt.datetime | None
    paused: bool
    submitted_at: dt.datetime | None
    lay_summary: str
    technical_summary: str
    purpose: str
    public_interest: str
    controller_name: str
    implementer_name: str
    duration_months: int | None
    period_start: dt.date | None
    period_end: dt.date | None
    population_criteria: str

    @staticmethod
    def resolve_reference(obj: Application) -> str:
        return obj.project.reference

    @staticmethod
    def resolve_paused(obj: Application) -> bool:
        return obj.paused_at is not None


class ApplicationIn(Schema):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(..., max_length=300, pattern=NOT_BLANK)
    legal_route: LegalRoute = LegalRoute.STANDARD


class ApplicationPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    # Left out, a field is unchanged; null empties a number or a date only.
    title: str = omittable(max_length=300, pattern=NOT_BLANK)
    lay_summary: str = omittable(max_length=TEXT)
    technical_summary: str = omittable(max_length=TEXT)
    purpose: str = omittable(max_length=TEXT)
    public_interest: str = omittable(max_length=TEXT)
    controller_name: str = omittable(max_length=300)
    implementer_name: str = omittable(max_length=300)
    funding: str = omittable(max_length=TEXT)
    declarations_of_interest: str = omittable(max_length=TEXT)
    linkages: str = omittable(max_length=TEXT)
    expected_outputs: str = omittable(max_length=TEXT)
    duration_months: int | None = Field(None, ge=1, le=240)
    processing_location: str = omittable(max_length=300)
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    population_criteria: str = omittable(max_length=TEXT)


class PerimeterIn(Schema):
    model_config = ConfigDict(extra="forbid")

    base: str = Field(..., max_length=80)
    table: str | None = Field(None, max_length=128)
    variables: list[str] = Field(default_factory=list, max_length=500)
    justification: str = Field(..., max_length=2000, pattern=NOT_BLANK)


class PerimeterItemOut(Schema):
    id: int
    base: str
    table: str | None
    variable: str | None
    justification: str


class NoteIn(Schema):
    model_config = ConfigDict(extra="forbid")

    text: str = Field("", max_length=TEXT)


class AdmissibilityIn(Schema):
    model_config = ConfigDict(extra="forbid")

    decision: str = Field(..., pattern=r"^(accept|return|inadmissible)$")
    text: str = Field("", max_length=TEXT)


class CommitteeIn(Schema):
    model_config = ConfigDict(extra="forbid")

    outcome: OpinionOutcome
    rationale: str = Field(..., max_length=TEXT, pattern=NOT_BLANK)
    recommendations: str = Field("", max_length=TEXT)


class DecisionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    outcome: DecisionOutcome
    rationale: str = Field(..., max_length=TEXT, pattern=NOT_BLANK)
    conditions: str = Field("", max_length=TEXT)
    end_date: dt.date | None = None


class MessageIn(Schema):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(..., max_length=5000, pattern=NOT_BLANK)


class PublicationIn(Schema):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(..., max_length=500, pattern=NOT_BLANK)
    kind: PublicationKind
    published_on: dt.date
    url: str = Field("", max_length=500)
    doi: str = Field("", max_length=200)


class PublicationOut(Schema):
    id: int
    title: str
    kind: str
    url: str
    doi: str
    published_on: dt.date


class MessageOut(Schema):
    id: int
    author: str
    body: str
    sent_at: dt.datetime

    @staticmethod
    def resolve_author(obj: Any) -> str:
        return str(obj.author) if obj.author else ""


class DirectoryParams(Schema):
    q: str = Field("", max_length=200)
    route: str = Field("", max_length=12)
    state: str = Field("", max_length=20)
    base: str = Field("", max_length=80)
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=100000)


class StageFiguresOut(Schema):
    stage: str
    label: str
    count: int
    median_days: float | None
    p90_days: float | None


def _user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):
        raise NotAllowed("sign in")
    return user


def _application(request: HttpRequest, pk: int, perm: Permission) -> Application:
    application = (
        Application.objects.select_related("project").filter(pk=pk).first()
        if 0 < pk <= MAX_ID
        else None
    )
    if application is None:
        raise Http404("no such application")
    if not has_permission(request.user, perm, application):
        raise NotAllowed(f"{perm} refused")
    return application


@router.get(
    "/applications",
    response={200: list[ApplicationOut], **refusals(401)},
    auth=SIGNED_IN,
    openapi_extra=links(200, "pk", "$response.body#/0/id", *_ON_FILE),
)
def list_applications(request: HttpRequest) -> Any:
    """The caller's own applications (as a team member)."""
    return queries.mine(_user(request))


@router.post(
    "/applications",
    response={201: ApplicationOut, **refusals(401, 403, 422)},
    auth=SIGNED_IN,
    openapi_extra=links(201, "pk", "$response.body#/id", *_ON_FILE),
)
def create_application(request: HttpRequest, payload: ApplicationIn) -> Any:
    application = applications.create_application(
        by=_user(request), title=payload.title, legal_route=payload.legal_route
    )
    return Status(201, application)


@router.get("/applications/{pk}", response={200: ApplicationOut, **READ}, auth=SIGNED_IN)
def get_application(request: HttpRequest, pk: int) -> Any:
    return _application(request, pk, Permission.APPLICATION_VIEW)


@router.patch("/applications/{pk}", response={200: ApplicationOut, **ACT}, auth=SIGNED_IN)
def update_application(request: HttpRequest, pk: int, payload: ApplicationPatch) -> Any:
    application = _application(request, pk, Permission.APPLICATION_EDIT)
    values = payload.dict(exclude_unset=True)
    return applications.update_application(by=_user(request), application=application, **values)


@router.get(
    "/applications/{pk}/perimeter",
    response={200: list[PerimeterItemOut], **READ},
    auth=SIGNED_IN,
)
def get_perimeter(request: HttpRequest, pk: int) -> Any:
    application = _application(request, pk, Permission.APPLICATION_VIEW)
    return [
        {
            "id": item.pk,
            "base": item.base.slug,
            "table": item.table.name if item.table_id else None,
            "variable": item.variable.name if item.variable_id else None,
            "justification": item.justification,
        }
        for item in application.perimeter.select_related("base", "table", "variable")
    ]


@router.post("/applications/{pk}/perimeter", response={201: dict[str, int], **ACT}, auth=SIGNED_IN)
def add_perimeter(request: HttpRequest, pk: int, payload: PerimeterIn) -> Any:
    application = _application(request, pk, Permission.APPLICATION_EDIT)
    base = Base.objects.filter(slug=payload.base).first()
    if base is None:
        raise ValidationFailed("unknown base", ["base"])
    table = None
    if payload.table:
        table = Table.objects.filter(version_id=base.current_version_id, name=payload.table).first()
        if table is None:
            raise ValidationFailed("unknown table", ["table"])
    variables = []
    if payload.variables:
        if table is None:
            raise ValidationFailed("variables need a table", ["table"])
        variables = list(table.variables.filter(name__in=payload.variables))
        if len(variables) != len(set(payload.variables)):
            raise ValidationFailed("unknown variable", ["variables"])
    created = perimeter.add_items(
        by=_user(request),
        application=application,
        base=base,
        table=table,
        variables=variables,
        justification=payload.justification,
    )
    return Status(201, {"added": len(created)})


@router.post("/applications/{pk}/submit", response={200: ApplicationOut, **ACT}, auth=SIGNED_IN)
def submit(request: HttpRequest, pk: int) -> Any:
    application = _application(request, pk, Permission.APPLICATION_EDIT)
    return applications.submit(by=_user(request), application=application)


@router.post("/applications/{pk}/resubmit", response={200: ApplicationOut, **ACT}, auth=SIGNED_IN)
def resubmit(request: HttpRequest, pk: int, payload: NoteIn) -> Any:
    application = _application(request, pk, Permission.APPLICATION_EDIT)
    return applications.resubmit(by=_user(request), application=application, note=payload.text)


@router.post("/applications/{pk}/withdraw", response={200: ApplicationOut, **ACT}, auth=SIGNED_IN)
def withdraw(request: HttpRequest, pk: int, payload: NoteIn) -> Any:
    application = _application(request, pk, Permission.APPLICATION_EDIT)
    return applications.withdraw(by=_user(request), application=application, note=payload.text)


@router.post("/applications/{pk}/take-up", response={200: ApplicationOut, **ACT}, auth=SIGNED_IN)
def take_up(request: HttpRequest, pk: int) -> Any:
    application = _application(request, pk, Permission.APPLICATION_ADMISSIBILITY)
    return reviews.take_up(by=_user(request), application=application)


@router.post(
    "/applications/{pk}/admissibility", response={200: ApplicationOut, **ACT}, auth=SIGNED_IN
)
def admissibility(request: HttpRequest, pk: int, payload: AdmissibilityIn) -> Any:
    application = _application(request, pk, Permission.APPLICATION_ADMISSIBILITY)
    by = _user(request)
    if payload.decision == "accept":
        return reviews.accept(by=by, application=application)
    if payload.decision == "return":
        return reviews.return_to_applicant(by=by, application=application, message=payload.text)
    return reviews.declare_inadmissible(by=by, application=application, rationale=payload.text)


@router.post(
    "/applications/{pk}/committee-opinion", response={200: ApplicationOut, **ACT}, auth=SIGNED_IN
)
def committee_opinion(request: HttpRequest, pk: int, payload: CommitteeIn) -> Any:
    # The file's chair or the guichet officer: the service checks which.
    application = _application(request, pk, Permission.APPLICATION_VIEW)
    reviews.committee_opinion(by=_user(request), application=application, **payload.dict())
    application.refresh_from_db()
    return application


@router.post("/applications/{pk}/decision", response={200: ApplicationOut, **ACT}, auth=SIGNED_IN)
def decide(request: HttpRequest, pk: int, payload: DecisionIn) -> Any:
    application = _application(request, pk, Permission.APPLICATION_DECIDE)
    decisions.decide(by=_user(request), application=application, **payload.dict())
    application.refresh_from_db()
    return application


@router.post("/applications/{pk}/contract", response={200: ApplicationOut, **ACT}, auth=SIGNED_IN)
def contract(request: HttpRequest, pk: int) -> Any:
    application = _application(request, pk, Permission.APPLICATION_CONTRACT)
    return decisions.sign_contract(by=_user(request), application=application)


@router.get("/applications/{pk}/messages", response={200: list[MessageOut], **READ}, auth=SIGNED_IN)
def list_messages(request: HttpRequest, pk: int) -> Any:
    application = _application(request, pk, Permission.APPLICATION_VIEW)
    return application.messages.select_related("author")


@router.post("/applications/{pk}/messages", response={201: MessageOut, **ACT}, auth=SIGNED_IN)
def post_message(request: HttpRequest, pk: int, payload: MessageIn) -> Any:
    application = _application(request, pk, Permission.APPLICATION_VIEW)
    message = messages.post_message(by=_user(request), application=application, body=payload.body)
    return Status(201, message)


@router.post(
    "/applications/{pk}/publications", response={201: PublicationOut, **ACT}, auth=SIGNED_IN
)
def add_publication(request: HttpRequest, pk: int, payload: PublicationIn) -> Any:
    """A result or publication of the project, shown in the public directory."""
    application = _application(request, pk, Permission.APPLICATION_VIEW)
    found = publications.add(by=_user(request), project=application.project, **payload.dict())
    return Status(201, found)


@router.get("/directory", response={200: dict[str, Any], **refusals(403, 422)})
def public_directory(request: HttpRequest, params: Query[DirectoryParams]) -> Any:
    """The public project directory (open data); no sign-in needed."""
    if not has_permission(request.user, Permission.DIRECTORY_VIEW):
        raise NotAllowed("directory")
    found = directory.search(q=params.q, route=params.route, state=params.state, base=params.base)
    page = found[params.offset : params.offset + params.limit]
    return {"count": found.count(), "projects": [directory.record(a) for a in page]}


@router.get("/statistics", response={200: list[StageFiguresOut], **refusals(403)})
def statistics(request: HttpRequest) -> Any:
    """Median and 90th-percentile days per stage, and end to end."""
    if not has_permission(request.user, Permission.DIRECTORY_VIEW):
        raise NotAllowed("statistics")
    return directory.statistics()
