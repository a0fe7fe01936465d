"""The applicant's and the staff's pages, driven through the test client."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from hdh.access.models import Application, PerimeterItem, Review
from hdh.access.states import State
from hdh.audit.models import AuditEvent
from hdh.core import clock
from tests.access.helpers import client_for
from tests.factories.access import (
    COMPLETE_FORM,
    PDF,
    Staff,
    create_application_at,
    create_draft,
    researcher,
)
from tests.factories.catalog import create_test_base, import_small

pytestmark = pytest.mark.django_db


def url(name: str, application: Application, **kwargs: object) -> str:
    return reverse(f"access:{name}", kwargs={"pk": application.pk, **kwargs})


def test_visitors_see_the_directory_and_sign_in_for_the_rest(client: Client) -> None:
    response = client.get(reverse("access:index"))
    assert response.url == reverse("access:directory")
    for name in ("create", "overdue"):
        response = client.get(reverse(f"access:{name}"))
        assert response.status_code == 302
        assert reverse("accounts:login") in response.url


def test_an_applicant_files_a_complete_application_through_the_pages(tmp_path: Path) -> None:
    me = researcher()
    client = client_for(me)
    base = create_test_base()
    import_small(base, tmp_path / "schema")
    base.refresh_from_db()

    created = client.post(
        reverse("access:create"), {"title": "Étude des séjours", "legal_route": "standard"}
    )
    assert created.status_code == 302
    application = Application.objects.get(title="Étude des séjours")
    assert created.url == url("edit", application)

    form = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in COMPLETE_FORM.items()}
    saved = client.post(url("edit", application), {"title": "Étude des séjours", **form})
    assert saved.status_code == 302
    application.refresh_from_db()
    assert application.purpose == COMPLETE_FORM["purpose"]

    # Perimeter: base → table → variables, with a justification.
    assert (
        "SEJOUR" in client.get(url("perimeter", application), {"base": base.slug}).content.decode()
    )
    page = client.get(url("perimeter", application), {"base": base.slug, "table": "SEJOUR"})
    assert "SEJ_DTE" in page.content.decode()
    added = client.post(
        url("perimeter", application),
        {
            "base": base.slug,
            "table": "SEJOUR",
            "variables": ["SEJ_DTE", "PAT_ID"],
            "justification": "Les dates d'entrée mesurent les délais.",
        },
    )
    assert added.status_code == 302
    assert PerimeterItem.objects.filter(application=application).count() == 2

    incomplete = client.post(url("submit", application))
    assert incomplete.status_code == 422
    assert "Protocole" in incomplete.content.decode()

    upload = SimpleUploadedFile("protocole.pdf", PDF, content_type="application/pdf")
    assert client.post(url("protocol", application), {"protocol": upload}).status_code == 302

    submitted = client.post(url("submit", application))
    assert submitted.status_code == 302
    application.refresh_from_db()
    assert application.state == State.SUBMITTED
    assert "Demande déposée" in client.get(submitted.url).content.decode()


def test_demo_staff_take_a_file_to_authorised_through_the_pages(
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    team = Staff()
    application = create_application_at(State.SUBMITTED, team=team)
    officer, reviewer, regulator = (
        client_for(team.officer),
        client_for(team.reviewer),
        client_for(team.regulator),
    )
    assert application.project.reference in officer.get(reverse("access:index")).content.decode()
    assert officer.post(url("take_up", application)).status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            officer.post(url("admissibility", application), {"decision": "accept"}).status_code
            == 302
        )
    assert any(application.project.reference in m.subject for m in mail.outbox)
    page = officer.get(url("detail", application)).content.decode()
    assert f'value="{team.reviewer.pk}"' in page
    officer.post(url("assign", application), {"reviewer": team.reviewer.pk})
    reviewer.post(url("interests", application), {"has_conflict": "no"})
    reviewer.post(url("opinion", application), {"opinion": "favourable", "rationale": "Solide."})
    assert Review.objects.get(application=application).opinion == "favourable"
    committee = reviewer.post(
        url("committee", application), {"outcome": "favourable", "rationale": "Intérêt public."}
    )
    assert committee.status_code == 302
    end = (clock.today() + dt.timedelta(days=400)).isoformat()
    refused_without_reason = regulator.post(
        url("decide", application), {"outcome": "authorised", "end_date": end}
    )
    assert refused_without_reason.status_code == 422
    decided = regulator.post(
        url("decide", application),
        {
            "outcome": "authorised",
            "rationale": "Conforme.",
            "conditions": "Aucune.",
            "end_date": end,
        },
    )
    assert decided.status_code == 302
    application.refresh_from_db()
    assert application.state == State.AUTHORISED
    assert application.permit.end_date.isoformat() == end
    assert officer.post(url("contract", application)).status_code == 302
    application.refresh_from_db()
    assert application.state == State.CONTRACT_SIGNED
    actions = set(
        AuditEvent.objects.filter(target_id=str(application.pk)).values_list("action", flat=True)
    )
    assert {
        "access.application.submitted",
        "access.application.taken_up",
        "access.application.admissible",
        "access.application.opinion_given",
        "access.application.authorised",
        "access.application.contract_signed",
    } <= actions


def test_returning_a_file_needs_a_message_and_pauses_the_clock(frozen) -> None:  # type: ignore[no-untyped-def]
    team = Staff()
    application = create_application_at(State.ADMISSIBILITY, team=team)
    due = application.stage_due_at
    officer = client_for(team.officer)
    empty = officer.post(url("admissibility", application), {"decision": "return", "text": ""})
    assert empty.status_code == 422
    returned = officer.post(
        url("admissibility", application), {"decision": "return", "text": "Précisez la période."}
    )
    assert returned.status_code == 302
    application.refresh_from_db()
    assert application.state == State.RETURNED
    assert application.paused_at is not None
    frozen.advance(dt.timedelta(days=10))
    applicant = client_for(application.created_by)  # type: ignore[arg-type]
    assert "Précisez la période." in applicant.get(url("detail", application)).content.decode()
    assert applicant.post(url("resubmit", application), {"text": "C'est fait."}).status_code == 302
    application.refresh_from_db()
    assert application.state == State.ADMISSIBILITY
    assert application.stage_due_at == due + dt.timedelta(days=10)


def test_the_overdue_dashboard_lists_late_files_for_staff_only(frozen) -> None:  # type: ignore[no-untyped-def]
    team = Staff()
    late = create_application_at(State.SUBMITTED, team=team)
    frozen.advance(dt.timedelta(days=30))
    fresh = create_application_at(State.SUBMITTED, team=team)
    page = client_for(team.officer).get(reverse("access:overdue"))
    assert page.status_code == 200
    overdue_part = page.content.decode().split("Toutes les horloges")[0]
    assert late.project.reference in overdue_part
    assert fresh.project.reference not in overdue_part
    assert client_for(researcher()).get(reverse("access:overdue")).status_code == 403


def test_a_draft_is_private_to_its_team() -> None:
    application = create_draft()
    team = Staff()
    for user in (researcher(), team.officer):
        assert client_for(user).get(url("detail", application)).status_code == 403
    assert client_for(application.created_by).get(url("detail", application)).status_code == 200  # type: ignore[arg-type]


def test_missing_ids_are_404_and_huge_ids_do_not_crash() -> None:
    client = client_for(researcher())
    assert client.get(reverse("access:detail", kwargs={"pk": 999999})).status_code == 404
    assert client.get("/projets/99999999999999999999999/").status_code == 404


def test_messages_thread_between_applicant_and_staff(
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    team = Staff()
    application = create_application_at(State.ADMISSIBILITY, team=team)
    applicant = client_for(application.created_by)  # type: ignore[arg-type]
    with django_capture_on_commit_callbacks(execute=True):
        sent = applicant.post(
            url("message", application),
            {"body": "Une question sur la période.", "question": "purpose"},
        )
    assert sent.status_code == 302
    assert any(team.officer.email in m.to for m in mail.outbox)
    page = client_for(team.officer).get(url("detail", application)).content.decode()
    assert "Une question sur la période." in page
    hostile = applicant.post(url("message", application), {"body": "x", "question": "password"})
    assert hostile.status_code == 422


def test_data_engineers_open_the_files_they_prepare_and_only_those() -> None:
    team = Staff()
    application = create_application_at(State.CONTRACT_SIGNED, team=team)
    earlier = create_application_at(State.REGULATOR_REVIEW, team=team)
    engineer = client_for(team.engineer)
    assert application.project.reference in engineer.get(reverse("access:index")).content.decode()
    assert engineer.get(url("detail", earlier)).status_code == 403
    page = engineer.get(url("detail", application))
    assert "Commencer la préparation" in page.content.decode()
    started = engineer.post(url("lifecycle", application, step="preparation"))
    assert started.status_code == 302
    engineer.post(url("lifecycle", application, step="workspace"))
    application.refresh_from_db()
    assert application.state == State.WORKSPACE_OPEN
