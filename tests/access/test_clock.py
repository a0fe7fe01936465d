"""Deadlines per stage, working days, pauses, the regulator's one extension, expiry."""

from __future__ import annotations

import datetime as dt

import pytest

from hdh.access import deadlines
from hdh.access.services import applications, decisions, reviews
from hdh.access.states import LegalRoute, Stage, State
from hdh.core.errors import InvalidState
from tests.factories.access import Staff, create_application_at, create_draft

UTC = dt.UTC


def at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T09:00:00+00:00")


def test_working_days_skip_weekends_and_french_public_holidays() -> None:
    # Friday 1 May 2026 is Labour Day; Thursday 14 May is Ascension.
    assert deadlines.add_working_days(at("2026-04-30"), 1) == at("2026-05-04")
    assert deadlines.add_working_days(at("2026-05-13"), 1) == at("2026-05-15")
    assert deadlines.add_working_days(at("2026-03-02"), 7) == at("2026-03-11")
    assert dt.date(2026, 4, 6) in deadlines.public_holidays(2026)  # Easter Monday


def test_months_clamp_to_the_end_of_a_shorter_month() -> None:
    assert deadlines.add_months(at("2026-01-31"), 1) == at("2026-02-28")
    assert deadlines.add_months(at("2026-11-15"), 2) == at("2027-01-15")


def test_defaults_follow_the_legal_delays_and_settings_override_them(settings) -> None:  # type: ignore[no-untyped-def]
    assert str(deadlines.stage_delay(Stage.ADMISSIBILITY, LegalRoute.STANDARD)) == "7wd"
    assert str(deadlines.stage_delay(Stage.OPINION, LegalRoute.STANDARD)) == "1m"
    assert str(deadlines.stage_delay(Stage.DECISION, LegalRoute.STANDARD)) == "2m"
    assert str(deadlines.stage_delay(Stage.ADMISSIBILITY, LegalRoute.FAST_TRACK)) == "15d"
    settings.HDH_ACCESS_DEADLINES = {"opinion": "45d"}
    assert str(deadlines.stage_delay(Stage.OPINION, LegalRoute.STANDARD)) == "45d"
    settings.HDH_ACCESS_DEADLINES = {"opinion": "soon"}
    with pytest.raises(ValueError, match="7wd"):
        deadlines.stage_delay(Stage.OPINION, LegalRoute.STANDARD)


@pytest.mark.django_db
def test_submission_starts_the_admissibility_clock(frozen) -> None:  # type: ignore[no-untyped-def]
    application = create_draft()
    applications.submit(by=application.created_by, application=application)  # type: ignore[arg-type]
    application.refresh_from_db()
    assert application.stage == Stage.ADMISSIBILITY
    assert application.stage_due_at == deadlines.add_working_days(clock_now(frozen), 7)
    frozen.advance(dt.timedelta(days=12))
    assert application.is_overdue


def clock_now(frozen) -> dt.datetime:  # type: ignore[no-untyped-def]
    return frozen.at


@pytest.mark.django_db
def test_the_regulator_extends_its_delay_once(frozen) -> None:  # type: ignore[no-untyped-def]
    team = Staff()
    application = create_application_at(State.REGULATOR_REVIEW, team=team)
    due = application.stage_due_at
    assert due == deadlines.add_months(frozen.at, 2)
    decisions.extend_decision_deadline(by=team.regulator, application=application)
    assert application.stage_due_at == deadlines.add_months(due, 2)
    with pytest.raises(InvalidState):
        decisions.extend_decision_deadline(by=team.regulator, application=application)


@pytest.mark.django_db
def test_an_expired_permit_closes_the_project(frozen) -> None:  # type: ignore[no-untyped-def]
    application = create_application_at(State.WORKSPACE_OPEN)
    permit = application.permit
    frozen.advance(dt.timedelta(days=400))
    closed = decisions.close_expired()
    assert closed == [application.project.reference]
    application.refresh_from_db()
    permit.refresh_from_db()
    assert application.state == State.CLOSED
    assert permit.closed_at is not None
    assert not permit.is_active()


@pytest.mark.django_db
def test_information_requested_by_the_committee_pauses_its_clock(frozen) -> None:  # type: ignore[no-untyped-def]
    team = Staff()
    application = create_application_at(State.SCIENTIFIC_REVIEW, team=team)
    due = application.stage_due_at
    reviews.request_information(by=team.reviewer, application=application, message="Précisez.")
    frozen.advance(dt.timedelta(days=20))
    applications.resubmit(by=application.created_by, application=application)  # type: ignore[arg-type]
    application.refresh_from_db()
    assert application.state == State.SCIENTIFIC_REVIEW
    assert application.stage_due_at == due + dt.timedelta(days=20)


@pytest.mark.django_db
def test_the_expiry_task_and_command_close_ended_permits(frozen) -> None:  # type: ignore[no-untyped-def]
    from io import StringIO

    from django.core.management import call_command

    from hdh.access.tasks import close_expired_permits

    first = create_application_at(State.AUTHORISED)
    second = create_application_at(State.CONTRACT_SIGNED)
    frozen.advance(dt.timedelta(days=400))
    out = StringIO()
    call_command("access", "close-expired", stdout=out)
    assert first.project.reference in out.getvalue()
    assert second.project.reference in out.getvalue()
    assert close_expired_permits.call() == []
