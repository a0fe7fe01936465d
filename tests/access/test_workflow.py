"""The transitions table: every path, every refusal, the audit in the same transaction."""

from __future__ import annotations

import pytest

from hdh.access import workflow
from hdh.access.models import Application, Permit, StageEntry
from hdh.access.services import applications, reviews
from hdh.access.states import FINAL_STATES, Holder, LegalRoute, State
from hdh.audit.models import AuditEvent
from hdh.core.errors import InvalidState, NotAllowed, ValidationFailed
from hdh.core.governance import DirectWriteRefused
from hdh.core.permissions import Permission, Role
from tests.factories.access import Staff, create_application_at, create_draft, researcher
from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db


def test_every_state_has_a_holder_and_every_non_final_state_a_way_out() -> None:
    assert set(workflow.HOLDERS) == set(State)
    sources = {source for source, _ in workflow.TRANSITIONS}
    assert sources == set(State) - FINAL_STATES
    targets = {target for _, target in workflow.TRANSITIONS}
    assert targets == set(State) - {State.DRAFT}


def test_every_transition_names_a_permission_or_is_the_platforms() -> None:
    for transition in workflow.TRANSITIONS.values():
        assert transition.permission is not None
        assert transition.audit_action.startswith("access.application.")
        assert transition.routes or transition.amendment_routes


@pytest.mark.parametrize("route", list(LegalRoute))
def test_every_route_reaches_closed(route: LegalRoute) -> None:
    application = create_application_at(State.CLOSED, route=route)
    visited = list(application.history.values_list("to_state", flat=True))
    assert visited[-1] == State.CLOSED
    assert (State.REGULATOR_REVIEW in visited) == (route == LegalRoute.STANDARD)
    reviewed = route in (LegalRoute.STANDARD, LegalRoute.MR007, LegalRoute.MR008)
    assert (State.SCIENTIFIC_REVIEW in visited) == reviewed
    assert application.permit.closed_at is not None


def test_a_transition_writes_history_and_audit() -> None:
    application = create_draft()
    applications.submit(by=application.created_by, application=application)  # type: ignore[arg-type]
    application.refresh_from_db()
    assert application.state == State.SUBMITTED
    assert application.holder == Holder.PLATFORM
    entry = StageEntry.objects.get(application=application)
    assert (entry.from_state, entry.to_state) == (State.DRAFT, State.SUBMITTED)
    event = AuditEvent.objects.get(action="access.application.submitted")
    assert event.target_id == str(application.pk)
    assert event.details["from"] == "draft"


def test_a_failed_audit_write_rolls_the_transition_back(monkeypatch: pytest.MonkeyPatch) -> None:
    application = create_draft()

    def broken(**kwargs: object) -> None:
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(workflow.audit, "record", broken)
    with pytest.raises(RuntimeError):
        applications.submit(by=application.created_by, application=application)  # type: ignore[arg-type]
    application.refresh_from_db()
    assert application.state == State.DRAFT
    assert application.submitted_at is None
    assert not StageEntry.objects.filter(application=application).exists()


def test_an_unknown_or_invalid_move_is_a_clear_state_error() -> None:
    application = create_draft()
    with pytest.raises(InvalidState):
        workflow.transition(application, to=State.AUTHORISED, by=application.created_by)
    with pytest.raises(InvalidState):
        workflow.transition(application, to="nowhere", by=application.created_by)


def test_fast_track_skips_the_committee_and_the_regulator() -> None:
    application = create_application_at(State.ADMISSIBILITY, route=LegalRoute.FAST_TRACK)
    with pytest.raises(InvalidState):
        workflow.find(application, State.SCIENTIFIC_REVIEW)
    standard = create_application_at(State.ADMISSIBILITY)
    with pytest.raises(InvalidState):
        workflow.find(standard, State.AUTHORISED)


def test_an_incomplete_draft_cannot_be_submitted_and_says_what_is_missing() -> None:
    application = create_draft(complete=False)
    with pytest.raises(ValidationFailed) as raised:
        applications.submit(by=application.created_by, application=application)  # type: ignore[arg-type]
    problems = " ".join(raised.value.problems)
    assert "Périmètre" in problems
    assert "Protocole" in problems
    assert Application.objects.get(pk=application.pk).state == State.DRAFT


def test_someone_else_cannot_submit_and_the_denial_is_audited() -> None:
    application = create_draft()
    stranger = researcher()
    with pytest.raises(NotAllowed):
        applications.submit(by=stranger, application=application)
    denial = AuditEvent.objects.get(action="permission.denied", actor_id=str(stranger.pk))
    assert denial.details["permission"] == Permission.APPLICATION_EDIT


def test_nobody_judges_an_application_they_are_part_of() -> None:
    # An officer who is also a researcher files for their own research.
    officer = UserFactory(roles=[Role.GUICHET_OFFICER, Role.RESEARCHER])
    application = create_draft(by=officer)
    applications.submit(by=officer, application=application)
    with pytest.raises(NotAllowed):
        reviews.take_up(by=officer, application=application)
    denial = AuditEvent.objects.filter(action="permission.denied").last()
    assert denial is not None
    assert "part of" in denial.details["reason"]


def test_governed_rows_refuse_direct_writes() -> None:
    application = create_draft()
    application.state = State.AUTHORISED
    with pytest.raises(DirectWriteRefused):
        application.save()
    with pytest.raises(DirectWriteRefused):
        Application.objects.filter(pk=application.pk).update(state=State.AUTHORISED)
    with pytest.raises(DirectWriteRefused):
        Permit.objects.all().delete()


def test_returned_goes_back_to_the_stage_that_returned_it() -> None:
    application = create_application_at(State.RETURNED)
    assert application.returned_from == State.ADMISSIBILITY
    assert application.holder == Holder.APPLICANT
    applications.resubmit(by=application.created_by, application=application)  # type: ignore[arg-type]
    application.refresh_from_db()
    assert application.state == State.ADMISSIBILITY
    assert application.returned_from == ""


def test_answers_record_the_version_of_their_question() -> None:
    from hdh.access import policies, questions
    from hdh.access.services import questions as bank

    application = create_draft()
    assert application.answer_versions["purpose"] == questions.by_key()["purpose"].version == 1
    assert policies.completeness_problems(application) == []
    bank.revise(
        by=Staff().officer, key="purpose", label="Finalité du traitement", help_text="Précise."
    )
    assert [q.key for q in questions.outdated_answers(application)] == ["purpose"]
    assert any("vérifiez" in p for p in policies.completeness_problems(application))
    applications.update_application(
        by=application.created_by,  # type: ignore[arg-type]
        application=application,
        purpose="Une finalité reformulée.",
    )
    application.refresh_from_db()
    assert application.answer_versions["purpose"] == 2
    assert questions.outdated_answers(application) == []
