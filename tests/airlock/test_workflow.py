"""The release request workflow table: every pair of states × every kind of actor.

Requests are taken to each state by the real services; the table is then
asked about every move from there, by a member of the project, an output
checker outside it, an output checker inside it, an outsider and the platform.
"""

from __future__ import annotations

from typing import Any

import pytest

from hdh.airlock import services, workflow
from hdh.airlock.models import ReleaseRequest
from hdh.airlock.states import FINAL_STATES, OWNERS, Actor, State, Vote
from hdh.audit.models import AuditEvent
from hdh.core.errors import InvalidState, NotAllowed
from tests.airlock.conftest import SMALL_CELL, Project
from tests.factories.access import researcher

pytestmark = pytest.mark.django_db


def request_at(project: Project, state: State) -> ReleaseRequest:
    """A request taken to ``state`` through the services the pages use."""
    if state == State.PENDING:
        return project.request_with(("table.csv", SMALL_CELL))
    if state == State.WITHDRAWN:
        request = project.request_with(("table.csv", SMALL_CELL))
        return services.withdraw(by=project.lead, request=request)
    request = project.submitted()
    if state == State.SUBMITTED:
        return request
    project.review(request, project.checkers[0])
    if state == State.PARTIALLY_REVIEWED:
        return request
    project.review(request, project.checkers[1])
    if state == State.REVIEWED:
        return request
    checker = project.checkers[0]
    if state == State.RETURNED:
        services.comment(
            by=checker,
            request=request,
            text="Arrondir à 5.",
            visibility="public",
            file=request.files.get(),
        )
        return services.return_to_requester(by=checker, request=request)
    if state == State.REJECTED:
        return services.reject(by=checker, request=request, reason="Données individuelles.")
    if state == State.APPROVED:
        return workflow.transition(request, to=State.APPROVED, by=checker)
    assert state == State.RELEASED
    return services.approve(by=checker, request=request)


def actors(project: Project) -> dict[str, Any]:
    return {
        "requester": project.lead,
        "checker": project.checkers[2],
        "outsider": researcher(),
        "system": None,
    }


EXPECTED_ACTOR = {Actor.REQUESTER: "requester", Actor.CHECKER: "checker", Actor.SYSTEM: "system"}


@pytest.mark.parametrize("source", list(State))
def test_every_move_from_each_state_follows_the_table(project: Project, source: State) -> None:
    request = request_at(project, source)
    request.refresh_from_db()
    assert request.state == source
    people = actors(project)
    for target in State:
        allowed = workflow.TRANSITIONS.get((source, target))
        if allowed is None:
            with pytest.raises(InvalidState):
                workflow.find(request, target)
            for who in people.values():
                with pytest.raises((InvalidState, NotAllowed)):
                    workflow.transition(request, to=target, by=who)
            continue
        assert workflow.find(request, target) is allowed
        for name, who in people.items():
            if name == EXPECTED_ACTOR[allowed.actor]:
                workflow.check_actor(allowed, request, who)
            else:
                with pytest.raises(NotAllowed):
                    workflow.check_actor(allowed, request, who)
    request.refresh_from_db()
    assert request.state == source, "asking must not move the request"


def test_every_state_has_an_owner_and_moves_leave_from_their_owners_states() -> None:
    assert set(OWNERS) == set(State)
    for (source, _target), transition in workflow.TRANSITIONS.items():
        assert OWNERS[source] == transition.actor, transition.name
    for state in FINAL_STATES:
        assert not [t for (s, _t), t in workflow.TRANSITIONS.items() if s == state]


def test_unknown_target_state_is_an_invalid_state(project: Project) -> None:
    request = request_at(project, State.PENDING)
    with pytest.raises(InvalidState):
        workflow.find(request, "exported\x00")


def test_a_refused_move_is_audited_and_changes_nothing(project: Project) -> None:
    request = request_at(project, State.PENDING)
    outsider = researcher()
    with pytest.raises(NotAllowed):
        services.submit(by=outsider, request=request)
    request.refresh_from_db()
    assert request.state == State.PENDING
    denial = AuditEvent.objects.filter(action="permission.denied").latest("id")
    assert denial.details["permission"] == "release.request"


def test_a_failed_audit_write_leaves_the_request_unchanged(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = request_at(project, State.PENDING)

    def broken(**_: Any) -> None:
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(workflow.audit, "record", broken)
    with pytest.raises(RuntimeError):
        services.submit(by=project.lead, request=request)
    request.refresh_from_db()
    assert request.state == State.PENDING
    assert request.submitted_at is None
    assert not request.history.exists()


def test_each_move_writes_history_and_one_audit_event(project: Project) -> None:
    request = request_at(project, State.RELEASED)
    moves = [(h.from_state, h.to_state) for h in request.history.all()]
    assert moves == [
        ("pending", "submitted"),
        ("submitted", "partially_reviewed"),
        ("partially_reviewed", "reviewed"),
        ("reviewed", "approved"),
        ("approved", "released"),
    ]
    actions = list(
        AuditEvent.objects.filter(action__startswith="airlock.request.").values_list(
            "action", flat=True
        )
    )
    for name in ("submitted", "first_review", "second_review", "approved", "released"):
        assert actions.count(f"airlock.request.{name}") == 1


def test_resubmission_opens_a_new_turn_that_needs_two_new_reviews(project: Project) -> None:
    request = request_at(project, State.RETURNED)
    assert request.turn == 1
    services.submit(by=project.lead, request=request)
    request.refresh_from_db()
    assert (request.state, request.turn) == (State.SUBMITTED, 2)
    project.review(request, project.checkers[0], Vote.APPROVED)
    assert request.state == State.PARTIALLY_REVIEWED
    project.review(request, project.checkers[2], Vote.APPROVED)
    assert request.state == State.REVIEWED


def test_final_states_accept_no_move_from_anyone(project: Project) -> None:
    for state in (State.RELEASED, State.REJECTED, State.WITHDRAWN):
        request = request_at(project, state)
        for target in State:
            with pytest.raises((InvalidState, NotAllowed)):
                workflow.transition(request, to=target, by=project.checkers[0])


def test_the_platform_cannot_act_as_a_person_nor_a_person_as_the_platform(
    project: Project,
) -> None:
    pending = request_at(project, State.PENDING)
    with pytest.raises(NotAllowed):
        workflow.transition(pending, to=State.SUBMITTED, by=None)
    services.withdraw(by=project.lead, request=pending)
    approved = request_at(project, State.APPROVED)
    with pytest.raises(NotAllowed):
        workflow.transition(approved, to=State.RELEASED, by=project.checkers[0])
    with pytest.raises(NotAllowed):
        workflow.transition(approved, to=State.RELEASED, by=project.lead)
    services.release(request=approved)
    assert approved.state == State.RELEASED
