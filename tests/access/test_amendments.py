"""Amendments and renewals: a lighter workflow, and a permit that replaces the earlier one."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from hdh.access.models import Application, Permit
from hdh.access.services import applications, decisions, reviews
from hdh.access.states import Kind, LegalRoute, State
from hdh.core import clock
from hdh.core.errors import InvalidState, NotAllowed
from tests.access.helpers import client_for
from tests.factories.access import Staff, create_application_at, researcher

pytestmark = pytest.mark.django_db


def test_an_amendment_skips_the_committee_and_supersedes_the_permit() -> None:
    team = Staff()
    original = create_application_at(State.WORKSPACE_OPEN, team=team)
    owner = original.created_by
    assert owner is not None
    amendment = applications.start_amendment(by=owner, application=original, kind=Kind.AMENDMENT)
    assert amendment.project_id == original.project_id
    assert amendment.perimeter.count() == original.perimeter.count()
    assert amendment.team.count() == original.team.count()
    with pytest.raises(InvalidState):  # one at a time
        applications.start_amendment(by=owner, application=original, kind=Kind.RENEWAL)
    applications.submit(by=owner, application=amendment)
    reviews.take_up(by=team.officer, application=amendment)
    reviews.accept(by=team.officer, application=amendment)
    amendment.refresh_from_db()
    assert amendment.state == State.REGULATOR_REVIEW
    decisions.decide(
        by=team.regulator,
        application=amendment,
        outcome="authorised",
        rationale="Modification conforme.",
        end_date=clock.today() + dt.timedelta(days=800),
    )
    original.refresh_from_db()
    assert original.state == State.CLOSED
    assert Permit.objects.get(application=original).closed_at is not None
    live = Permit.objects.get(project=original.project, closed_at__isnull=True)
    assert live.application_id == amendment.pk


def test_a_fast_track_renewal_is_registered_by_the_guichet() -> None:
    team = Staff()
    original = create_application_at(State.AUTHORISED, route=LegalRoute.FAST_TRACK, team=team)
    owner = original.created_by
    assert owner is not None
    renewal = applications.start_amendment(by=owner, application=original, kind=Kind.RENEWAL)
    applications.submit(by=owner, application=renewal)
    reviews.take_up(by=team.officer, application=renewal)
    reviews.accept(by=team.officer, application=renewal)
    renewal.refresh_from_db()
    assert renewal.state == State.AUTHORISED
    assert renewal.permit.closed_at is None


def test_only_the_team_amends_and_only_an_authorised_project() -> None:
    submitted = create_application_at(State.SUBMITTED)
    with pytest.raises(InvalidState):
        applications.start_amendment(
            by=submitted.created_by,  # type: ignore[arg-type]
            application=submitted,
            kind=Kind.AMENDMENT,
        )
    authorised = create_application_at(State.AUTHORISED)
    with pytest.raises(NotAllowed):
        applications.start_amendment(by=researcher(), application=authorised, kind=Kind.AMENDMENT)


def test_the_amendment_button_opens_a_prefilled_draft() -> None:
    original = create_application_at(State.AUTHORISED)
    client = client_for(original.created_by)  # type: ignore[arg-type]
    detail = client.get(reverse("access:detail", args=[original.pk])).content.decode()
    assert "Demander un renouvellement" in detail
    response = client.post(reverse("access:amend", args=[original.pk]), {"kind": "renewal"})
    assert response.status_code == 302
    draft = Application.objects.get(kind=Kind.RENEWAL)
    assert draft.title == original.title
    bad = client.post(reverse("access:amend", args=[original.pk]), {"kind": "coup"})
    assert bad.status_code == 422


def test_a_new_protocol_on_the_amendment_keeps_the_original_file(
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    from pathlib import Path

    from tests.factories.access import protocol_upload

    original = create_application_at(State.AUTHORISED)
    owner = original.created_by
    assert owner is not None
    amendment = applications.start_amendment(by=owner, application=original, kind=Kind.AMENDMENT)
    with django_capture_on_commit_callbacks(execute=True):
        applications.attach_protocol(by=owner, application=amendment, upload=protocol_upload())
    original.refresh_from_db()
    assert Path(original.protocol.path).exists()
