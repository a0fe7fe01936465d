"""The committee's opinion is a committee decision: members vote, a quorum, a majority;
the file's chair (or the guichet officer) records it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from hdh.access import committee
from hdh.access.models import Application, CommitteeOpinion, OpinionOutcome, Review
from hdh.access.services import reviews
from hdh.access.states import LegalRoute, State
from hdh.accounts.models import User
from hdh.audit.models import AuditEvent
from hdh.core.errors import InvalidState, NotAllowed, ValidationFailed
from hdh.core.permissions import Role
from tests.access.helpers import client_for
from tests.factories.access import Staff, create_application_at
from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db

F = OpinionOutcome.FAVOURABLE
FR = OpinionOutcome.FAVOURABLE_WITH_RECOMMENDATIONS
U = OpinionOutcome.UNFAVOURABLE


def member() -> User:
    return UserFactory(roles=[Role.COMMITTEE_MEMBER])  # type: ignore[no-any-return]


def panel(application: Application, team: Staff, size: int) -> list[User]:
    members = [member() for _ in range(size)]
    for person in members:
        reviews.assign_reviewer(by=team.officer, application=application, reviewer=person)
    return members


def vote(person: User, application: Application, opinion: str, conflict: bool = False) -> None:
    reviews.declare_interests(
        by=person, application=application, has_conflict=conflict, statement="Co-auteur."
    )
    if not conflict:
        reviews.give_opinion(
            by=person, application=application, opinion=opinion, rationale="Motivé."
        )


def record(by: User, application: Application, outcome: str = F) -> CommitteeOpinion:
    return reviews.committee_opinion(
        by=by, application=application, outcome=outcome, rationale="Avis motivé."
    )


def test_the_first_member_assigned_chairs_unless_the_officer_names_another() -> None:
    team = Staff()
    application = create_application_at(State.SCIENTIFIC_REVIEW, team=team)
    first, second = panel(application, team, 2)
    assert committee.chair_of(application).reviewer == first  # type: ignore[union-attr]
    third = member()
    reviews.assign_reviewer(by=team.officer, application=application, reviewer=third, chair=True)
    assert list(Review.objects.filter(application=application, chair=True)) == [
        Review.objects.get(application=application, reviewer=third)
    ]
    assert not Review.objects.get(reviewer=second).chair
    event = AuditEvent.objects.filter(action="access.review.assigned").last()
    assert event is not None
    assert event.details["chair"] is True


def test_quorum_all_waits_for_every_member_without_a_conflict() -> None:
    team = Staff()
    application = create_application_at(State.SCIENTIFIC_REVIEW, team=team)
    chair, second, conflicted = panel(application, team, 3)
    vote(chair, application, F)
    with pytest.raises(InvalidState, match="Quorum"):
        record(chair, application)
    # A member with a conflict of interest is not waited for, and cannot vote.
    vote(conflicted, application, F, conflict=True)
    with pytest.raises(NotAllowed):
        reviews.give_opinion(by=conflicted, application=application, opinion=U, rationale="x")
    with pytest.raises(InvalidState, match="Quorum"):
        record(chair, application)
    vote(second, application, FR)
    opinion = record(chair, application)
    assert (opinion.votes_favourable, opinion.votes_with_recommendations) == (1, 1)
    assert opinion.votes_unfavourable == 0
    assert opinion.quorum == "all"
    application.refresh_from_db()
    assert application.state == State.REGULATOR_REVIEW
    event = AuditEvent.objects.get(action="access.application.opinion_given")
    assert event.details["votes"] == [1, 1, 0]
    assert event.details["quorum"] == "all"


def test_a_numeric_quorum_counts_votes(settings) -> None:  # type: ignore[no-untyped-def]
    settings.HDH_COMMITTEE_QUORUM = "2"
    team = Staff()
    application = create_application_at(State.SCIENTIFIC_REVIEW, team=team)
    chair, second, _third = panel(application, team, 3)
    vote(chair, application, F)
    with pytest.raises(InvalidState, match="1 vote"):
        record(chair, application)
    vote(second, application, F)
    # The third member has not voted: two votes are enough.
    record(chair, application)
    assert CommitteeOpinion.objects.get(application=application).quorum == "2"


def test_the_opinion_follows_the_majority_and_a_tie_is_the_recorders_call() -> None:
    team = Staff()
    application = create_application_at(State.SCIENTIFIC_REVIEW, team=team)
    a, b, c = panel(application, team, 3)
    vote(a, application, U)
    vote(b, application, U)
    vote(c, application, FR)
    with pytest.raises(InvalidState, match="défavorable"):
        record(a, application, F)
    opinion = record(a, application, U)
    assert opinion.votes_unfavourable == 2
    # Standard route: even an unfavourable opinion goes to the regulator.
    application.refresh_from_db()
    assert application.state == State.REGULATOR_REVIEW

    tied = create_application_at(State.SCIENTIFIC_REVIEW, team=team, route=LegalRoute.MR007)
    d, e = panel(tied, team, 2)
    vote(d, tied, U)
    vote(e, tied, F)
    record(d, tied, U)
    tied.refresh_from_db()
    assert tied.state == State.REFUSED


def test_only_the_chair_or_the_officer_records_and_refusals_are_audited() -> None:
    team = Staff()
    application = create_application_at(State.SCIENTIFIC_REVIEW, team=team)
    chair, other = panel(application, team, 2)
    vote(chair, application, F)
    vote(other, application, F)
    with pytest.raises(NotAllowed):
        record(other, application)
    denial = AuditEvent.objects.filter(action="permission.denied").last()
    assert denial is not None
    assert "chair" in denial.details["reason"]
    outsider = member()  # a committee member not assigned to the file
    with pytest.raises(NotAllowed):
        record(outsider, application)
    with pytest.raises(NotAllowed):
        record(team.regulator, application)
    assert not CommitteeOpinion.objects.exists()
    record(team.officer, application)
    application.refresh_from_db()
    assert application.state == State.REGULATOR_REVIEW


def test_a_chair_with_a_conflict_cannot_record() -> None:
    team = Staff()
    application = create_application_at(State.SCIENTIFIC_REVIEW, team=team)
    chair, other = panel(application, team, 2)
    vote(chair, application, F, conflict=True)
    vote(other, application, F)
    with pytest.raises(NotAllowed):
        record(chair, application)
    # The officer names another chair, who records.
    with pytest.raises(ValidationFailed):  # already assigned: a chair is named at assignment
        reviews.assign_reviewer(
            by=team.officer, application=application, reviewer=other, chair=True
        )
    record(team.officer, application)


def test_nobody_votes_on_a_file_they_belong_to() -> None:
    team = Staff()
    insider = UserFactory(roles=[Role.COMMITTEE_MEMBER, Role.RESEARCHER])
    own = create_application_at(State.SCIENTIFIC_REVIEW, team=team, by=insider)
    with pytest.raises(ValidationFailed):
        reviews.assign_reviewer(by=team.officer, application=own, reviewer=insider)
    with pytest.raises(NotAllowed):
        reviews.give_opinion(by=insider, application=own, opinion=F, rationale="x")
    with pytest.raises(NotAllowed):
        record(insider, own)


def test_hostile_votes_and_opinions_are_refused() -> None:
    team = Staff()
    application = create_application_at(State.SCIENTIFIC_REVIEW, team=team)
    (chair,) = panel(application, team, 1)
    reviews.declare_interests(by=chair, application=application, has_conflict=False)
    for opinion, rationale in (("maybe", "x"), (F, ""), (F, "x" * 10001), ("", "x")):
        with pytest.raises(ValidationFailed):
            reviews.give_opinion(
                by=chair, application=application, opinion=opinion, rationale=rationale
            )
    reviews.give_opinion(by=chair, application=application, opinion=F, rationale="ok")
    with pytest.raises(ValidationFailed):
        record(chair, application, "'; DROP TABLE")
    assert not CommitteeOpinion.objects.exists()


def test_the_page_shows_the_tally_and_the_form_to_the_chair_only() -> None:
    team = Staff()
    application = create_application_at(State.SCIENTIFIC_REVIEW, team=team)
    chair, other = panel(application, team, 2)
    vote(chair, application, F)
    url = reverse("access:detail", kwargs={"pk": application.pk})
    action = reverse("access:committee", kwargs={"pk": application.pk})
    as_chair, as_other = client_for(chair), client_for(other)
    page = as_chair.get(url).content.decode()
    assert "Votes du comité" in page
    assert "Quorum non atteint" in page
    assert action not in page
    vote(other, application, F)
    page = as_chair.get(url).content.decode()
    assert "Quorum atteint" in page
    assert action in page
    assert action not in as_other.get(url).content.decode()
    assert as_other.post(action, {"outcome": F, "rationale": "Avis."}).status_code == 403
    response = client_for(team.officer).post(action, {"outcome": F, "rationale": "Avis."})
    assert response.status_code in (200, 302)
    application.refresh_from_db()
    assert application.state == State.REGULATOR_REVIEW
