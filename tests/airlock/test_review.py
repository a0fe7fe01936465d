"""Two independent checkers: who may check, blinding, decisions, returns, resets."""

from __future__ import annotations

import pytest

from hdh.airlock import review, services
from hdh.airlock.models import Comment, FileReview, ReleaseRequest
from hdh.airlock.states import FileDecision, FileKind, State, Visibility, Vote
from hdh.audit.models import AuditEvent
from hdh.core.errors import InvalidState, NotAllowed, ValidationFailed
from hdh.core.governance import service_writes
from hdh.core.permissions import ProjectRole, Role
from tests.airlock.conftest import SAFE_TABLE, SMALL_CELL, Project, open_project
from tests.factories.access import researcher, staff

pytestmark = pytest.mark.django_db

A, C, R = Vote.APPROVED, Vote.CHANGES_REQUESTED, Vote.REJECTED


@pytest.mark.parametrize(
    ("votes", "decision"),
    [
        ([], FileDecision.INCOMPLETE),
        ([A], FileDecision.INCOMPLETE),
        ([A, A], FileDecision.APPROVED),
        ([A, C], FileDecision.CONFLICTED),
        ([C, C], FileDecision.CHANGES_REQUESTED),
        ([R, R], FileDecision.REJECTED),
        ([A, R], FileDecision.CONFLICTED),
        ([C, R], FileDecision.CONFLICTED),
        ([A, C, A], FileDecision.APPROVED),
        ([C, C, C], FileDecision.CHANGES_REQUESTED),
    ],
)
def test_a_file_decision_needs_two_submitted_votes(votes: list[str], decision: str) -> None:
    assert review.decision_of(votes) == decision


# --- Who may check -----------------------------------------------------------------


def test_the_requester_and_members_cannot_check(project: Project) -> None:
    request = project.submitted()
    file = request.files.get()
    with pytest.raises(NotAllowed):
        services.vote(by=project.lead, file=file, decision=Vote.APPROVED)
    with pytest.raises(NotAllowed):
        services.submit_review(by=project.lead, request=request)
    assert not FileReview.objects.exists()


def test_an_output_checker_on_the_project_cannot_check_it(project: Project) -> None:
    request = project.submitted()
    insider = staff(Role.OUTPUT_CHECKER)
    members = [*project.workspace.permit.members]
    members.append({"user_id": insider.pk, "username": insider.username, "role": "member"})
    with service_writes():
        project.workspace.permit.members = members
        project.workspace.permit.save()
    request = ReleaseRequest.objects.get(pk=request.pk)
    with pytest.raises(NotAllowed):
        services.vote(by=insider, file=request.files.get(), decision=Vote.APPROVED)
    denial = AuditEvent.objects.filter(action="permission.denied").latest("id")
    assert denial.details["reason"] == "nobody checks a release of a project they are part of"


def test_a_checker_on_the_application_team_cannot_check_the_project(project: Project) -> None:
    request = project.submitted()
    insider = staff(Role.OUTPUT_CHECKER)
    application = project.workspace.permit.application
    with service_writes():
        application.team.create(user=insider, role=ProjectRole.MEMBER)
    with pytest.raises(NotAllowed):
        services.vote(by=insider, file=request.files.get(), decision=Vote.APPROVED)


def test_people_without_the_checker_role_cannot_check(project: Project) -> None:
    request = project.submitted()
    for person in (researcher(), staff(Role.GUICHET_OFFICER), staff(Role.ADMINISTRATOR)):
        with pytest.raises(NotAllowed):
            services.vote(by=person, file=request.files.get(), decision=Vote.APPROVED)


def test_a_pending_request_is_not_the_checkers_yet(project: Project) -> None:
    request = project.request_with(("table.csv", SAFE_TABLE))
    with pytest.raises(NotAllowed):
        services.vote(by=project.checkers[0], file=request.files.get(), decision=Vote.APPROVED)


# --- Voting and reviews -------------------------------------------------------------


def test_a_review_needs_a_vote_on_every_output_file(project: Project) -> None:
    request = project.submitted(("a.csv", SAFE_TABLE), ("b.csv", SAFE_TABLE))
    first = request.files.order_by("name").first()
    assert first is not None
    services.vote(by=project.checkers[0], file=first, decision=Vote.APPROVED)
    with pytest.raises(ValidationFailed):
        services.submit_review(by=project.checkers[0], request=request)
    request.refresh_from_db()
    assert request.state == State.SUBMITTED


def test_supporting_files_get_no_vote(project: Project) -> None:
    request = project.request_with(("table.csv", SAFE_TABLE))
    services.add_file(
        by=project.lead,
        request=request,
        output=project.output("code.txt", b"SELECT count(*) FROM t\n"),
        group="tables",
        kind=FileKind.SUPPORTING,
    )
    services.submit(by=project.lead, request=request)
    supporting = request.files.get(kind=FileKind.SUPPORTING)
    with pytest.raises(InvalidState):
        services.vote(by=project.checkers[0], file=supporting, decision=Vote.APPROVED)
    project.review(request, project.checkers[0])
    assert request.state == State.PARTIALLY_REVIEWED


def test_votes_are_fixed_once_the_review_is_submitted(project: Project) -> None:
    request = project.submitted()
    project.review(request, project.checkers[0])
    with pytest.raises(InvalidState):
        services.vote(by=project.checkers[0], file=request.files.get(), decision=Vote.REJECTED)
    with pytest.raises(InvalidState):
        services.submit_review(by=project.checkers[0], request=request)


@pytest.mark.parametrize("decision", ["maybe", "", "approved\x00"])
def test_unknown_votes_are_refused(project: Project, decision: str) -> None:
    request = project.submitted()
    with pytest.raises(ValidationFailed):
        services.vote(by=project.checkers[0], file=request.files.get(), decision=decision)


# --- Blinding ------------------------------------------------------------------------


def test_checkers_see_only_their_own_votes_and_comments_until_two_reviews(
    project: Project,
) -> None:
    first, second = project.checkers[0], project.checkers[1]
    request = project.submitted()
    file = request.files.get()
    services.vote(by=first, file=file, decision=Vote.APPROVED)
    services.comment(by=first, request=request, text="Vu.", visibility=Visibility.PRIVATE)
    services.comment(by=first, request=request, text="Pour le demandeur.", file=file)
    services.vote(by=second, file=file, decision=Vote.CHANGES_REQUESTED)
    assert [v.checker_id for v in review.visible_votes(request, second, checker=True)] == [
        second.pk
    ]
    assert not review.visible_comments(request, second, checker=True)
    assert review.blinded(request)
    assert review.decisions(request)[file.pk] == FileDecision.INCOMPLETE
    services.submit_review(by=first, request=request)
    assert review.blinded(request)
    assert [v.checker_id for v in review.visible_votes(request, second, checker=True)] == [
        second.pk
    ]
    # The project sees no checker comment while the turn is under way.
    assert not review.visible_comments(request, project.lead, checker=False)
    services.submit_review(by=second, request=request)
    request.refresh_from_db()
    assert request.state == State.REVIEWED
    assert not review.blinded(request)
    seen = {v.checker_id for v in review.visible_votes(request, second, checker=True)}
    assert seen == {first.pk, second.pk}
    assert len(review.visible_comments(request, second, checker=True)) == 2
    assert review.decisions(request)[file.pk] == FileDecision.CONFLICTED
    # The project never sees votes, and sees public comments once the turn is over.
    assert review.visible_votes(request, project.lead, checker=False) == []
    assert not review.visible_comments(request, project.lead, checker=False)
    services.return_to_requester(by=second, request=request)
    request.refresh_from_db()
    texts = [c.text for c in review.visible_comments(request, project.lead, checker=False)]
    assert texts == ["Pour le demandeur."]


def test_the_requesters_comments_are_public(project: Project) -> None:
    request = project.submitted()
    note = services.comment(
        by=project.lead, request=request, text="Voir la note.", visibility=Visibility.PRIVATE
    )
    assert note.visibility == Visibility.PUBLIC
    assert not note.by_checker
    assert review.visible_comments(request, project.checkers[0], checker=True) == [note]


@pytest.mark.parametrize(
    ("text", "error"),
    [("", "renseigner"), ("x" * 5001, "5000"), ("a\x00b", "nul"), ("   \n", "renseigner")],
)
def test_hostile_comments_are_refused(project: Project, text: str, error: str) -> None:
    request = project.submitted()
    with pytest.raises(ValidationFailed, match=error):
        services.comment(by=project.checkers[0], request=request, text=text)
    assert not Comment.objects.exists()


def test_a_comment_on_another_requests_file_is_refused(project: Project) -> None:
    request = project.submitted()
    other = open_project()
    foreign = other.request_with(("t.csv", SAFE_TABLE)).files.get()
    with pytest.raises(NotAllowed):
        services.comment(by=project.checkers[0], request=request, text="x", file=foreign)


# --- Decisions -----------------------------------------------------------------------


def test_approval_needs_every_output_file_approved_twice(project: Project) -> None:
    request = project.submitted(("a.csv", SAFE_TABLE), ("b.csv", SAFE_TABLE))
    a, b = request.files.order_by("name")
    for checker in project.checkers[:2]:
        services.vote(by=checker, file=a, decision=Vote.APPROVED)
        services.vote(by=checker, file=b, decision=Vote.APPROVED)
        services.submit_review(by=checker, request=request)
    request.refresh_from_db()
    assert request.state == State.REVIEWED
    assert set(review.decisions(request).values()) == {FileDecision.APPROVED}


def test_approval_is_refused_while_a_file_is_not_approved(project: Project) -> None:
    request = project.submitted()
    project.review(request, project.checkers[0], Vote.APPROVED)
    project.review(request, project.checkers[1], Vote.CHANGES_REQUESTED)
    with pytest.raises(InvalidState):
        services.approve(by=project.checkers[0], request=request)
    request.refresh_from_db()
    assert request.state == State.REVIEWED


def test_a_third_checker_breaks_a_conflict(project: Project) -> None:
    request = project.submitted()
    project.review(request, project.checkers[0], Vote.APPROVED)
    project.review(request, project.checkers[1], Vote.CHANGES_REQUESTED)
    assert set(review.decisions(request).values()) == {FileDecision.CONFLICTED}
    project.review(request, project.checkers[2], Vote.APPROVED)
    assert request.state == State.REVIEWED
    assert set(review.decisions(request).values()) == {FileDecision.APPROVED}
    services.approve(by=project.checkers[2], request=request)
    assert request.state == State.RELEASED


def test_a_return_needs_a_public_comment_on_each_file_needing_changes(project: Project) -> None:
    request = project.submitted(("a.csv", SAFE_TABLE), ("b.csv", SAFE_TABLE))
    a, b = request.files.order_by("name")
    checker = project.checkers[0]
    for who, votes in ((checker, (A, C)), (project.checkers[1], (A, C))):
        services.vote(by=who, file=a, decision=votes[0])
        services.vote(by=who, file=b, decision=votes[1])
        services.submit_review(by=who, request=request)
    with pytest.raises(ValidationFailed) as refused:
        services.return_to_requester(by=checker, request=request)
    assert any("b.csv" in p for p in refused.value.problems)
    assert not any("a.csv" in p for p in refused.value.problems)
    services.comment(
        by=checker, request=request, text="Privé.", visibility=Visibility.PRIVATE, file=b
    )
    with pytest.raises(ValidationFailed):
        services.return_to_requester(by=checker, request=request)
    services.comment(by=checker, request=request, text="Masquer les cellules < 11.", file=b)
    services.return_to_requester(by=checker, request=request)
    assert request.state == State.RETURNED


def test_a_rejection_needs_a_reason_that_the_project_reads(project: Project) -> None:
    request = project.reviewed(decision=Vote.REJECTED)
    with pytest.raises(ValidationFailed):
        services.reject(by=project.checkers[0], request=request, reason="  ")
    services.reject(by=project.checkers[0], request=request, reason="Données individuelles.")
    request.refresh_from_db()
    assert request.state == State.REJECTED
    texts = [c.text for c in review.visible_comments(request, project.lead, checker=False)]
    assert texts == ["Données individuelles."]


def test_the_requester_cannot_decide(project: Project) -> None:
    request = project.reviewed()
    for action in (services.approve, services.return_to_requester):
        with pytest.raises(NotAllowed):
            action(by=project.lead, request=request)
    with pytest.raises(NotAllowed):
        services.reject(by=project.lead, request=request, reason="Non.")


# --- A changed file starts again -------------------------------------------------------


def test_replacing_a_file_resets_its_votes_and_the_new_turn_needs_them_again(
    project: Project,
) -> None:
    request = project.submitted(("table.csv", SMALL_CELL), ("autre.csv", SAFE_TABLE))
    table = request.files.get(name="table.csv")
    other = request.files.get(name="autre.csv")
    for checker in project.checkers[:2]:
        services.vote(by=checker, file=table, decision=Vote.CHANGES_REQUESTED)
        services.vote(by=checker, file=other, decision=Vote.APPROVED)
        services.submit_review(by=checker, request=request)
    services.comment(by=project.checkers[0], request=request, text="Masquer le 4.", file=table)
    services.return_to_requester(by=project.checkers[0], request=request)
    project.output("table.csv", SAFE_TABLE)
    services.replace_file(by=project.lead, file=table)
    assert not FileReview.objects.filter(file=table).exists()
    assert FileReview.objects.filter(file=other).count() == 2
    event = AuditEvent.objects.get(action="airlock.file.replaced")
    assert event.details["votes_reset"] == 2
    services.submit(by=project.lead, request=request)
    request.refresh_from_db()
    assert request.turn == 2
    # Unchanged files keep each checker's earlier vote; the changed one needs a new one.
    with pytest.raises(ValidationFailed):
        services.submit_review(by=project.checkers[0], request=request)
    for checker in project.checkers[:2]:
        services.vote(by=checker, file=table, decision=Vote.APPROVED)
        services.submit_review(by=checker, request=request)
    request.refresh_from_db()
    assert set(review.decisions(request).values()) == {FileDecision.APPROVED}
    services.approve(by=project.checkers[1], request=request)
    assert request.state == State.RELEASED
