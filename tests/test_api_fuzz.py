"""The REST API fuzzed from its own OpenAPI spec (schemathesis), in-process through WSGI.

* stateless: every operation, valid and invalid input, as a researcher (user A);
* stateful: sequences that follow the spec's OpenAPI links (a file created, then
  read, edited, submitted…), as A;
* two users: A's run leaves files; B's run (another researcher) must never get a
  2xx on a URL that names one of A's files, nor a body that lists one; then B is
  sent straight at every route on A's files and is refused each time, changing
  nothing.

Every schemathesis check runs: no 5xx, every status, content type and body as the
spec declares, invalid input refused, valid input accepted. Hypothesis is
derandomized and bounded so a run is reproducible and quick.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Flaky, FlakyStrategyDefinition
from schemathesis import Case, CheckContext, GenerationMode, Response
from schemathesis.checks import positive_data_acceptance

from hdh.access.models import Application
from hdh.access.states import State
from hdh.accounts import tokens
from hdh.accounts.models import User
from hdh.wsgi import application as wsgi_application
from tests.factories.access import create_application_at, create_draft, researcher
from tests.factories.catalog import create_test_base, import_small

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", wsgi_application)
# Authentication is given explicitly (a personal token per user), never generated.
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], with_security_parameters=False
)

# Bounded for CI: a pass over the whole API stays well under two minutes.
STATELESS = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
STATEFUL = settings(
    max_examples=40,
    stateful_step_count=10,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
)
# A's run only has to leave files behind for B: a shorter one will do.
COLLECTING = settings(STATEFUL, max_examples=15)
FILES = "/api/access/applications"

# Rules of the services that no schema can state: a well-formed request that one of
# them refuses gets 422 with the rule's ``problems`` (ValidationFailed). Anywhere else,
# or without ``problems`` (the input's own schema refused it), a valid request
# refused is a spec that says too little, and fails.
BUSINESS_RULES = {
    "POST /api/access/applications/{pk}/submit": "a file is submitted complete",
    "POST /api/access/applications/{pk}/perimeter": "the base, table and variables exist",
    "PATCH /api/access/applications/{pk}": "the study period ends after it starts",
    "POST /api/access/applications/{pk}/publications": "a URL or a DOI, a date not in the future",
}


@dataclass
class Person:
    user: User
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class World:
    a: Person
    b: Person
    # A's files: their primary keys and project references.
    a_files: set[int] = field(default_factory=set)
    a_references: set[str] = field(default_factory=set)

    def add_a_file(self, application: Application) -> None:
        self.a_files.add(application.pk)
        self.a_references.add(application.project.reference)


def _person() -> Person:
    user = researcher(with_totp=True)
    _token, raw = tokens.create_token(by=None, owner=user, label="fuzz")
    return Person(user, raw)


@pytest.fixture(autouse=True)
def _requests_keep_the_test_transaction() -> Iterator[None]:
    # The WSGI handler closes the database connection at each request's end, which
    # would end the test's transaction; Django's test client disconnects it the same way.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def world(db: None, tmp_path: Path) -> World:
    """A catalogued base with tables and code lists, and two researchers; A already has
    a draft and a submitted file."""
    base = create_test_base()
    import_small(base, tmp_path / "dictionary")
    found = World(a=_person(), b=_person())
    found.add_a_file(create_draft(by=found.a.user, base=base))
    found.add_a_file(create_application_at(State.SUBMITTED, by=found.a.user, base=base))
    return found


def valid_input_accepted(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """schemathesis's ``positive_data_acceptance``, less the platform's own rules."""
    if response.status_code == 400 and "%00" in (response.request.url or ""):
        # RejectNulMiddleware: no URL of the platform holds a NUL (PostgreSQL cannot
        # compare text with one); declared as every route's 400 in ``hdh.api``.
        return True
    if response.status_code == 400 and "\\u0000" in _body_text(response):
        # The same middleware refuses a JSON body holding a NUL, in any text.
        return True
    if response.status_code == 422 and case.operation.label in BUSINESS_RULES:
        body = json.loads(response.content)
        if isinstance(body, dict) and "problems" in body:
            return True
    return positive_data_acceptance(ctx, response, case)


def _body_text(response: Response) -> str:
    body = response.request.body or b""
    return body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)


CHECKS = {
    "additional_checks": [valid_input_accepted],
    "excluded_checks": [positive_data_acceptance],
}


# --- a. stateless -----------------------------------------------------------------


@schema.parametrize()
@STATELESS
def test_every_operation_as_a_researcher(case: Case, world: World) -> None:
    case.call_and_validate(headers=world.a.headers, **CHECKS)


# --- b. stateful ------------------------------------------------------------------


@dataclass
class Run:
    """What one state-machine run saw: each operation's statuses, and its failures."""

    statuses: dict[str, set[int]] = field(default_factory=dict)
    failures: list[BaseException] = field(default_factory=list)

    def reached(self, label: str) -> bool:
        return any(200 <= status < 300 for status in self.statuses.get(label, ()))


def _machine(
    person: Person, run: Run, *, isolated: bool = True, checks: list[Any] | None = None
) -> type:
    """The spec's state machine acting as ``person``.

    ``isolated``: each scenario starts from the fixture's database (a savepoint rolled
    back at its end), so the same choices meet the same answers and Hypothesis can
    replay a failure. Otherwise what a scenario creates stays for the next ones.
    """
    base = schema.as_state_machine()

    class AsPerson(base):  # type: ignore[misc, valid-type]
        def setup(self) -> None:
            super().setup()
            self._scenario = transaction.atomic()
            if isolated:
                self._scenario.__enter__()

        def teardown(self) -> None:
            if isolated:
                transaction.set_rollback(True)
                self._scenario.__exit__(None, None, None)
            super().teardown()

        def get_call_kwargs(self, case: Case) -> dict[str, Any]:
            return {"headers": person.headers}

        def after_call(self, response: Response, case: Case) -> None:
            super().after_call(response, case)
            run.statuses.setdefault(case.operation.label, set()).add(response.status_code)

        def validate_response(self, response: Response, case: Case, **kwargs: Any) -> None:
            kwargs.pop("additional_checks", None)
            try:
                # The token is named as the request's explicit credentials, so the
                # authentication check probes the route without it and with a forged one.
                case.validate_response(
                    response,
                    additional_checks=[valid_input_accepted, *(checks or [])],
                    excluded_checks=[positive_data_acceptance],
                    headers=person.headers,
                    transport_kwargs=kwargs or None,
                    recorder=self.recorder,
                )
            except Exception as exc:
                run.failures.append(exc)
                raise

    return AsPerson


def _run(machine: type, run: Run, budget: settings = STATEFUL) -> None:
    try:
        machine.run(settings=budget)
    except (Flaky, FlakyStrategyDefinition):
        # Scenarios that share a growing database cannot be replayed: Hypothesis stops
        # when the same choices meet new answers. Exploration ends there; a failure
        # found before it is still one.
        if run.failures:
            raise run.failures[0] from None


def test_stateful_as_a_researcher(world: World) -> None:
    run = Run()
    _run(_machine(world.a, run), run)
    # The links were followed: files created through the API were then reached through
    # the routes that take their id (a random id would only ever meet 404).
    assert run.reached("POST /api/access/applications"), run.statuses
    on_a_file = {label for label in run.statuses if "{pk}" in label and run.reached(label)}
    assert len(on_a_file) >= 3, run.statuses


# --- c. two users -----------------------------------------------------------------


def _application_bodies(response: Response) -> list[dict[str, Any]]:
    try:
        body = json.loads(response.content)
    except ValueError:
        return []
    items = body if isinstance(body, list) else [body]
    return [item for item in items if isinstance(item, dict) and "reference" in item]


def _collect_a_files(world: World, run: Run) -> type:
    """A's state machine, keeping every file A creates or sees (nothing rolled back)."""
    machine = _machine(world.a, run, isolated=False)

    class Collecting(machine):  # type: ignore[misc, valid-type]
        def after_call(self, response: Response, case: Case) -> None:
            super().after_call(response, case)
            if case.path.startswith(FILES) and 200 <= response.status_code < 300:
                for item in _application_bodies(response):
                    world.a_files.add(item["id"])
                    world.a_references.add(item["reference"])

    return Collecting


def _never_a_file_of_a(world: World) -> Any:
    def never_a_file_of_a(ctx: CheckContext, response: Response, case: Case) -> bool:
        if not 200 <= response.status_code < 300:
            return True
        pk = (case.path_parameters or {}).get("pk")
        assert not (case.path.startswith(FILES) and pk in world.a_files), (
            f"B got {response.status_code} on A's file {case.method} {case.formatted_path}"
        )
        if case.path.startswith(FILES):
            for item in _application_bodies(response):
                assert item["id"] not in world.a_files, f"B received A's file {item['id']}"
                assert item["reference"] not in world.a_references, "B received A's reference"
        return True

    return never_a_file_of_a


def _snapshot(world: World) -> dict[str, Any]:
    files = Application.objects.filter(pk__in=world.a_files).order_by("pk")
    return {
        "files": [
            {k: str(v) for k, v in row.items()}
            for row in files.values()  # every column, as stored
        ],
        "perimeter": sorted(files.values_list("perimeter__pk", flat=True).exclude(perimeter=None)),
        "messages": sorted(files.values_list("messages__pk", flat=True).exclude(messages=None)),
    }


def test_b_never_reaches_a_files(world: World) -> None:
    from_the_fixture = set(world.a_files)
    a_run = Run()
    _run(_collect_a_files(world, a_run), a_run, COLLECTING)
    # A's run left files of its own, beside the fixture's draft and submitted file.
    assert world.a_files - from_the_fixture
    before = _snapshot(world)

    b_run = Run()
    _run(_machine(world.b, b_run, checks=[_never_a_file_of_a(world)]), b_run)
    assert b_run.reached("POST /api/access/applications")

    # Then B is sent straight at every route on one file, with A's files.
    on_a_file = [
        operation
        for result in schema.get_all_operations()
        for operation in [result.ok()]
        if operation.path.startswith(FILES + "/{pk}")
    ]
    assert len(on_a_file) >= 15
    a_files = sorted(world.a_files)
    for operation in on_a_file:

        @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
        @settings(STATELESS, max_examples=2)
        def refused(case: Case) -> None:
            for pk in a_files:
                case.path_parameters = {**(case.path_parameters or {}), "pk": pk}
                response = case.call(headers=world.b.headers)
                if response.status_code == 400 and "\\u0000" in _body_text(response):
                    continue  # refused before any route runs, whoever's file it is
                assert response.status_code in (403, 404), (
                    f"{case.method} {case.formatted_path}: {response.status_code}"
                )

        refused()

    assert _snapshot(world) == before


# --- what the fuzzer found, pinned -------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body"),
    [
        # A null text was written as NULL into a NOT NULL column: a 500.
        ("/api/access/applications/{pk}", {"lay_summary": None}),
        ("/api/access/applications/{pk}", {"title": "   "}),
        ("/api/access/applications/{pk}/messages", {"body": " "}),
    ],
)
def test_inputs_the_fuzzer_found_are_refused_by_the_schema(
    world: World, path: str, body: dict[str, Any]
) -> None:
    pk = min(world.a_files)
    method = "PATCH" if path.endswith("{pk}") else "POST"
    operation = schema[path][method]
    case = operation.Case(path_parameters={"pk": pk}, body=body, media_type="application/json")
    response = case.call(headers=world.a.headers)
    assert response.status_code == 422, response.text
    # The input's own schema refused it (a list of locations), before any service ran.
    assert isinstance(json.loads(response.content)["detail"], list)
