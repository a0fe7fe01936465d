"""The guichet's and the committee's work: admissibility, reviewers, opinions."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from hdh.access import committee, workflow
from hdh.access.models import Application, CommitteeOpinion, Message, OpinionOutcome, Review
from hdh.access.services._common import require_on, require_text
from hdh.access.services.decisions import issue_permit
from hdh.access.states import LegalRoute, State
from hdh.accounts.authorization import audit_record_denial, has_permission, require_permission
from hdh.accounts.models import User
from hdh.audit import services as audit
from hdh.core import clock
from hdh.core.errors import InvalidState, NotAllowed, ValidationFailed
from hdh.core.governance import service_writes
from hdh.core.permissions import Permission


def take_up(*, by: User, application: Application) -> Application:
    return workflow.transition(application, to=State.ADMISSIBILITY, by=by)


def return_to_applicant(*, by: User, application: Application, message: str) -> Application:
    """Ask the applicant for something; the stage's clock stops until the file comes back."""
    message = require_text(message, _("Message au demandeur"), 5000)
    target = State.RETURNED
    workflow.check(application, to=target, by=by)
    with transaction.atomic():
        with service_writes():
            Message.objects.create(application=application, author=by, body=message)
        workflow.transition(application, to=target, by=by, note=message)
    return application


def accept(*, by: User, application: Application) -> Application:
    """The file is admissible: on to the committee or the regulator, as the route and the
    kind of application say, or registered at once (declarations, fast track, amendments)."""
    for target in (State.SCIENTIFIC_REVIEW, State.REGULATOR_REVIEW):
        found = workflow.TRANSITIONS[(State.ADMISSIBILITY, target)]
        if found.applies_to(application):
            return workflow.transition(application, to=target, by=by)
    workflow.check(application, to=State.AUTHORISED, by=by)
    with transaction.atomic():
        workflow.transition(application, to=State.AUTHORISED, by=by)
        issue_permit(application=application, conditions="", end_date=None)
    return application


def declare_inadmissible(*, by: User, application: Application, rationale: str) -> Application:
    rationale = require_text(rationale, _("Motivation"))
    return workflow.transition(
        application, to=State.REFUSED, by=by, note=rationale, details={"inadmissible": True}
    )


def assign_reviewer(
    *, by: User, application: Application, reviewer: User, chair: bool = False
) -> Review:
    """Assign a committee member to the file. The first one assigned chairs it unless
    the officer names another chair (``chair=True`` moves the chair to this member)."""
    require_on(by, Permission.APPLICATION_ADMISSIBILITY, application)
    if application.state != State.SCIENTIFIC_REVIEW:
        raise InvalidState(_("Les rapporteurs sont désignés pendant l'examen du comité."))
    # The reviewer must be able to review this very file (role, not a team member).
    if not has_permission(reviewer, Permission.APPLICATION_REVIEW, application, audit=False):
        raise ValidationFailed(
            _("Cette personne ne peut pas examiner cette demande."), ["reviewer"]
        )
    with transaction.atomic():
        if Review.objects.filter(application=application, reviewer=reviewer).exists():
            raise ValidationFailed(_("Cette personne est déjà rapporteur."), ["reviewer"])
        chairs = Review.objects.select_for_update().filter(application=application, chair=True)
        chair = chair or not chairs.exists()
        with service_writes():
            if chair:
                for previous in chairs:
                    previous.chair = False
                    previous.save(update_fields=["chair"])
            review = Review.objects.create(
                application=application, reviewer=reviewer, assigned_by=by, chair=chair
            )
        audit.record(
            action="access.review.assigned",
            by=by,
            target=application,
            details={"reviewer_id": reviewer.pk, "chair": chair},
        )
    return review


def _own_review(by: User, application: Application) -> Review:
    review = Review.objects.filter(application=application, reviewer_id=by.pk).first()
    if review is None:
        audit_record_denial(
            by, Permission.APPLICATION_REVIEW, application, "not an assigned reviewer"
        )
        raise NotAllowed("only an assigned reviewer may do this")
    return review


def declare_interests(
    *, by: User, application: Application, has_conflict: bool, statement: str = ""
) -> Review:
    review = _own_review(by, application)
    if application.state != State.SCIENTIFIC_REVIEW:
        raise InvalidState(_("L'examen du comité est terminé."))
    if review.has_conflict is not None:
        raise InvalidState(_("Votre déclaration d'intérêts est déjà enregistrée."))
    if has_conflict:
        statement = require_text(statement, _("Déclaration d'intérêts"), 5000)
    with transaction.atomic():
        review.has_conflict = has_conflict
        review.conflict_statement = statement.strip()
        review.declared_at = clock.now()
        with service_writes():
            review.save()
        audit.record(
            action="access.review.interests_declared",
            by=by,
            target=application,
            details={"has_conflict": has_conflict},
        )
    return review


def give_opinion(*, by: User, application: Application, opinion: str, rationale: str) -> Review:
    """The member's vote on the file, with its rationale; it may be revised until the
    committee's opinion is recorded."""
    require_on(by, Permission.APPLICATION_REVIEW, application)
    review = _own_review(by, application)
    if application.state != State.SCIENTIFIC_REVIEW:
        raise InvalidState(_("L'examen du comité est terminé."))
    if review.has_conflict is None:
        raise InvalidState(_("Déclarez d'abord vos liens d'intérêts."))
    if opinion not in OpinionOutcome.values:
        raise ValidationFailed(_("Avis inconnu."), ["opinion"])
    rationale = require_text(rationale, _("Motivation"))
    with transaction.atomic():
        review.opinion = opinion
        review.rationale = rationale
        review.submitted_at = clock.now()
        with service_writes():
            review.save()
        audit.record(
            action="access.review.opinion_given",
            by=by,
            target=application,
            details={"opinion": opinion},
        )
    return review


def committee_opinion(
    *,
    by: User,
    application: Application,
    outcome: str,
    rationale: str,
    recommendations: str = "",
) -> CommitteeOpinion:
    """The committee's opinion, recorded by the file's chair or the guichet officer once
    the quorum of votes is reached and following their majority; on a standard route the
    file then goes to the regulator."""
    _require_recorder(by, application)
    if application.state != State.SCIENTIFIC_REVIEW:
        raise InvalidState(_("L'examen du comité est terminé."))
    if outcome not in OpinionOutcome.values:
        raise ValidationFailed(_("Avis inconnu."), ["outcome"])
    counted = committee.check_opinion(application, outcome)
    rationale = require_text(rationale, _("Motivation"))
    if outcome == OpinionOutcome.FAVOURABLE_WITH_RECOMMENDATIONS:
        recommendations = require_text(recommendations, _("Recommandations"))
    if application.legal_route == LegalRoute.STANDARD:
        target = State.REGULATOR_REVIEW
    elif outcome == OpinionOutcome.UNFAVOURABLE:
        target = State.REFUSED
    else:
        target = State.AUTHORISED
    with transaction.atomic():
        with service_writes():
            opinion = CommitteeOpinion.objects.create(
                application=application,
                outcome=outcome,
                rationale=rationale,
                recommendations=recommendations.strip(),
                given_by=by,
                given_at=clock.now(),
                votes_favourable=counted.favourable,
                votes_with_recommendations=counted.with_recommendations,
                votes_unfavourable=counted.unfavourable,
                quorum=committee.quorum_setting(),
            )
        workflow.transition(
            application,
            to=target,
            by=by,
            note=rationale,
            details={
                "opinion": outcome,
                "votes": [counted.favourable, counted.with_recommendations, counted.unfavourable],
                "quorum": committee.quorum_setting(),
            },
        )
        if target == State.AUTHORISED:
            issue_permit(application=application, conditions=recommendations, end_date=None)
    return opinion


def _require_recorder(by: User, application: Application) -> None:
    """The guichet officer, or the file's chair (a member without a conflict)."""
    if by is None:
        raise NotAllowed("the committee's opinion needs a person")
    if has_permission(by, Permission.APPLICATION_ADMISSIBILITY, application, audit=False):
        return
    require_permission(by, Permission.APPLICATION_REVIEW, application)
    chair = committee.chair_of(application)
    if chair is None or chair.reviewer_id != by.pk or chair.has_conflict is not False:
        audit_record_denial(
            by, Permission.APPLICATION_REVIEW, application, "only the chair records the opinion"
        )
        raise NotAllowed("only the chair of the file or the guichet records the opinion")


def request_information(*, by: User, application: Application, message: str) -> Application:
    message = require_text(message, _("Message au demandeur"), 5000)
    workflow.check(application, to=State.RETURNED, by=by)
    with transaction.atomic():
        with service_writes():
            Message.objects.create(application=application, author=by, body=message)
        workflow.transition(application, to=State.RETURNED, by=by, note=message)
    return application
