"""Malformed and hostile input on every page: forms, uploads, other people's ids, wrong state."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from hdh.access.models import Application, PerimeterItem, Review, TeamMember
from hdh.access.services import applications, perimeter, reviews, team
from hdh.access.states import State
from hdh.core.errors import InvalidState, NotAllowed, ValidationFailed
from hdh.core.permissions import Role
from tests.access.helpers import client_for
from tests.factories.access import (
    PDF,
    Staff,
    create_application_at,
    create_draft,
    protocol_upload,
    researcher,
)
from tests.factories.accounts import UserFactory
from tests.factories.catalog import create_test_base, import_small

pytestmark = pytest.mark.django_db


def url(name: str, application: Application, **kwargs: object) -> str:
    return reverse(f"access:{name}", kwargs={"pk": application.pk, **kwargs})


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"", "vide.pdf"),
        (b"MZ\x90\x00 not a pdf", "protocole.pdf"),
        (PDF, "protocole.exe"),
        (b"<html><script>alert(1)</script>", "protocole.pdf"),
    ],
)
def test_uploads_must_be_a_real_pdf(content: bytes, name: str) -> None:
    application = create_draft(complete=False)
    with pytest.raises(ValidationFailed):
        applications.attach_protocol(
            by=application.created_by,  # type: ignore[arg-type]
            application=application,
            upload=protocol_upload(content, name),
        )
    application.refresh_from_db()
    assert not application.protocol


def test_oversized_uploads_are_refused(settings) -> None:  # type: ignore[no-untyped-def]
    settings.HDH_ACCESS_PROTOCOL_MAX_BYTES = 1024
    application = create_draft(complete=False)
    client = client_for(application.created_by)  # type: ignore[arg-type]
    big = SimpleUploadedFile("p.pdf", PDF + b"0" * 2048, content_type="application/pdf")
    response = client.post(url("protocol", application), {"protocol": big})
    assert response.status_code == 422
    assert "Mo" in response.content.decode()


def test_upload_path_tricks_do_not_escape_the_media_folder(settings) -> None:  # type: ignore[no-untyped-def]
    application = create_draft(complete=False)
    applications.attach_protocol(
        by=application.created_by,  # type: ignore[arg-type]
        application=application,
        upload=protocol_upload(PDF, "../../etc/passwd.pdf"),
    )
    application.refresh_from_db()
    assert application.protocol_name == "passwd.pdf"
    assert Path(application.protocol.path).resolve().is_relative_to(Path(settings.MEDIA_ROOT))


def test_the_protocol_is_downloadable_by_the_file_readers_only() -> None:
    application = create_application_at(State.SUBMITTED)
    owner = client_for(application.created_by)  # type: ignore[arg-type]
    response = owner.get(url("protocol_file", application))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF-")  # type: ignore[attr-defined]
    assert client_for(researcher()).get(url("protocol_file", application)).status_code == 403


@pytest.mark.parametrize(
    "data",
    [
        {"title": ""},
        {"title": "x" * 301},
        {"title": "T", "duration_months": "beaucoup"},
        {"title": "T", "duration_months": "100000"},
        {"title": "T", "period_start": "2020-99-99"},
        {"title": "T", "purpose": "x" * 10001},
    ],
)
def test_the_draft_form_refuses_bad_values_and_keeps_the_draft(data: dict[str, str]) -> None:
    application = create_draft(complete=False)
    client = client_for(application.created_by)  # type: ignore[arg-type]
    response = client.post(url("edit", application), data)
    assert response.status_code == 422
    application.refresh_from_db()
    assert application.title == "Parcours de soins du diabète"


def test_an_inverted_period_is_refused_by_the_service() -> None:
    import datetime as dt

    application = create_draft(complete=False)
    with pytest.raises(ValidationFailed):
        applications.update_application(
            by=application.created_by,  # type: ignore[arg-type]
            application=application,
            period_start=dt.date(2022, 1, 1),
            period_end=dt.date(2020, 1, 1),
        )


def test_unknown_fields_cannot_be_written_through_the_service() -> None:
    application = create_draft(complete=False)
    with pytest.raises(ValidationFailed):
        applications.update_application(
            by=application.created_by,  # type: ignore[arg-type]
            application=application,
            state=State.AUTHORISED,
        )


def test_another_users_file_is_403_on_every_applicant_page() -> None:
    application = create_draft()
    item = application.perimeter.first()
    assert item is not None
    client = client_for(researcher())
    for name, kwargs in [
        ("detail", {}),
        ("edit", {}),
        ("perimeter", {}),
        ("protocol_file", {}),
    ]:
        assert client.get(url(name, application, **kwargs)).status_code == 403, name
    for name, kwargs in [
        ("submit", {}),
        ("withdraw", {}),
        ("message", {}),
        ("member_add", {}),
        ("perimeter_remove", {"item": item.pk}),
        ("take_up", {}),
        ("decide", {}),
    ]:
        assert client.post(url(name, application, **kwargs), {}).status_code == 403, name
    assert PerimeterItem.objects.filter(pk=item.pk).exists()


def test_an_item_of_another_application_cannot_be_removed_through_mine() -> None:
    mine = create_draft()
    theirs = create_draft()
    their_item = theirs.perimeter.first()
    assert their_item is not None
    client = client_for(mine.created_by)  # type: ignore[arg-type]
    response = client.post(url("perimeter_remove", mine, item=their_item.pk))
    assert response.status_code == 422
    assert PerimeterItem.objects.filter(pk=their_item.pk).exists()


def test_perimeter_refuses_tables_of_another_base_and_empty_justifications(tmp_path: Path) -> None:
    base, other = create_test_base(), create_test_base()
    import_small(other, tmp_path / "other")
    other.refresh_from_db()
    application = create_draft(complete=False)
    table = other.current_version.tables.first()  # type: ignore[union-attr]
    by = application.created_by
    with pytest.raises(ValidationFailed):
        perimeter.add_items(
            by=by,
            application=application,
            base=base,
            table=table,
            justification="x",  # type: ignore[arg-type]
        )
    with pytest.raises(ValidationFailed):
        perimeter.add_items(by=by, application=application, base=other, justification="  ")  # type: ignore[arg-type]
    client = client_for(by)  # type: ignore[arg-type]
    response = client.post(
        url("perimeter", application),
        {"base": other.slug, "table": "NOPE", "justification": "x"},
    )
    assert response.status_code == 422
    response = client.post(url("perimeter", application), {"base": "nope", "justification": "x"})
    assert response.status_code == 422


def test_team_changes_are_checked() -> None:
    application = create_draft()
    owner = application.created_by
    assert owner is not None
    colleague = researcher()
    team.add_member(by=owner, application=application, user=colleague, role="member")
    with pytest.raises(ValidationFailed):
        team.add_member(by=owner, application=application, user=colleague, role="member")
    with pytest.raises(ValidationFailed):
        team.add_member(by=owner, application=application, user=researcher(), role="admin")
    with pytest.raises(NotAllowed):  # a plain member cannot edit the team
        team.add_member(by=colleague, application=application, user=researcher(), role="member")
    own = TeamMember.objects.get(application=application, user=owner)
    with pytest.raises(InvalidState):
        team.remove_member(by=owner, application=application, member_id=own.pk)
    client = client_for(owner)
    response = client.post(url("member_add", application), {"username": "nobody", "role": "member"})
    assert response.status_code == 422


def test_project_roles_come_from_the_team() -> None:
    from hdh.accounts.authorization import has_permission
    from hdh.core.permissions import Permission

    application = create_draft()
    member = researcher()
    team.add_member(
        by=application.created_by,  # type: ignore[arg-type]
        application=application,
        user=member,
        role="member",
    )
    assert has_permission(member, Permission.APPLICATION_VIEW, application)
    assert not has_permission(member, Permission.APPLICATION_EDIT, application, audit=False)
    assert has_permission(member, Permission.APPLICATION_VIEW, application.project)


def test_a_reviewer_with_a_conflict_of_interest_is_out() -> None:
    staff_team = Staff()
    application = create_application_at(State.SCIENTIFIC_REVIEW, team=staff_team)
    reviewer = UserFactory(roles=[Role.COMMITTEE_MEMBER])
    reviews.assign_reviewer(by=staff_team.officer, application=application, reviewer=reviewer)
    with pytest.raises(InvalidState):  # declare first
        reviews.give_opinion(
            by=reviewer, application=application, opinion="favourable", rationale="ok"
        )
    with pytest.raises(ValidationFailed):  # a conflict needs a statement
        reviews.declare_interests(by=reviewer, application=application, has_conflict=True)
    reviews.declare_interests(
        by=reviewer, application=application, has_conflict=True, statement="Co-auteur."
    )
    with pytest.raises(NotAllowed):
        reviews.give_opinion(
            by=reviewer, application=application, opinion="favourable", rationale="ok"
        )
    with pytest.raises(NotAllowed):
        reviews.committee_opinion(
            by=reviewer, application=application, outcome="favourable", rationale="ok"
        )
    assert Review.objects.get(reviewer=reviewer).opinion == ""


def test_a_team_member_cannot_be_assigned_as_reviewer() -> None:
    staff_team = Staff()
    # A committee member who is also a researcher files their own application.
    insider = UserFactory(roles=[Role.COMMITTEE_MEMBER, Role.RESEARCHER])
    own = create_draft(by=insider)
    applications.submit(by=insider, application=own)
    reviews.take_up(by=staff_team.officer, application=own)
    reviews.accept(by=staff_team.officer, application=own)
    with pytest.raises(ValidationFailed):
        reviews.assign_reviewer(by=staff_team.officer, application=own, reviewer=insider)


@pytest.mark.parametrize(
    ("state", "name", "data"),
    [
        (State.ADMISSIBILITY, "take_up", {}),
        (State.SUBMITTED, "contract", {}),
        (State.AUTHORISED, "admissibility", {"decision": "accept"}),
    ],
)
def test_a_wrong_state_is_a_clear_409(state: State, name: str, data: dict[str, str]) -> None:
    staff_team = Staff()
    application = create_application_at(state, team=staff_team)
    client = client_for(staff_team.officer)
    response = client.post(url(name, application), data)
    assert response.status_code == 409
    assert "fr-alert--error" in response.content.decode()


def test_huge_messages_and_unknown_choices_are_refused() -> None:
    staff_team = Staff()
    application = create_application_at(State.ADMISSIBILITY, team=staff_team)
    client = client_for(staff_team.officer)
    assert client.post(url("message", application), {"body": "x" * 6000}).status_code == 422
    assert client.post(url("message", application), {"body": ""}).status_code == 422
    assert (
        client.post(url("admissibility", application), {"decision": "?", "text": "x"}).status_code
        == 422
    )
    assert client.post(url("assign", application), {"reviewer": "abc"}).status_code == 422
    assert client.post(url("lifecycle", application, step="boom")).status_code == 404


def test_get_on_an_action_is_refused() -> None:
    application = create_application_at(State.SUBMITTED)
    client: Client = client_for(application.created_by)  # type: ignore[arg-type]
    assert client.get(url("submit", application)).status_code == 405


def test_only_assigned_reviewers_declare_and_give_opinions_and_refusals_are_audited() -> None:
    from hdh.audit.models import AuditEvent

    staff_team = Staff()
    application = create_application_at(State.SCIENTIFIC_REVIEW, team=staff_team)
    outsider = UserFactory(roles=[Role.COMMITTEE_MEMBER])
    with pytest.raises(NotAllowed):
        reviews.declare_interests(by=outsider, application=application, has_conflict=False)
    denial = AuditEvent.objects.filter(action="permission.denied", actor_id=str(outsider.pk))
    assert denial.get().details["reason"] == "not an assigned reviewer"
