"""What is allowed in which state. Questions about people live in ``hdh.access.permissions``.

Each function raises a typed error (:class:`InvalidState`, :class:`ValidationFailed`)
that only views and the API turn into responses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from hdh.access import questions
from hdh.access.models import Application, CommitteeOpinion, Decision, OpinionOutcome
from hdh.access.states import LegalRoute, State
from hdh.core.errors import InvalidState, ValidationFailed
from hdh.core.permissions import ProjectRole

if TYPE_CHECKING:
    from hdh.access.workflow import Transition

EDITABLE_STATES = frozenset({State.DRAFT, State.RETURNED})
# The routes whose file must include a protocol (committee review).
PROTOCOL_REQUIRED = frozenset({LegalRoute.STANDARD, LegalRoute.MR007, LegalRoute.MR008})


def ensure_editable(application: Application) -> None:
    if application.state not in EDITABLE_STATES:
        raise InvalidState(
            _("La demande ne peut plus être modifiée dans l'état « %(state)s ».")
            % {"state": application.get_state_display()}
        )


def completeness_problems(application: Application) -> list[str]:
    """What is missing before the guichet can examine the file; empty when complete."""
    problems: list[str] = []
    for question in (*questions.bank(), *questions.for_application(application)):
        if question.required and not questions.is_answered(application, question):
            problems.append(_("%(field)s : à renseigner.") % {"field": question.label})
    for question in questions.outdated_answers(application):
        problems.append(
            _("%(field)s : la question a changé, vérifiez votre réponse.")
            % {"field": question.label}
        )
    if not application.perimeter.exists():
        problems.append(_("Périmètre : choisir au moins une base, une table ou une variable."))
    if application.legal_route in PROTOCOL_REQUIRED and not application.protocol:
        problems.append(_("Protocole : joindre le protocole de l'étude (PDF)."))
    roles = set(application.team.values_list("role", flat=True))
    if ProjectRole.SCIENTIFIC_LEAD not in roles:
        problems.append(_("Équipe : désigner un ou une responsable scientifique."))
    return problems


def latest_opinion(application: Application) -> CommitteeOpinion | None:
    return application.committee_opinions.order_by("-given_at", "-id").first()


def latest_decision(application: Application) -> Decision | None:
    return application.decisions.order_by("-decided_at", "-id").first()


def check_transition(application: Application, transition: Transition) -> None:
    """State-level conditions of one transition, beyond the table itself."""
    target = transition.target
    if transition.source == State.DRAFT and target == State.SUBMITTED:
        problems = completeness_problems(application)
        if problems:
            raise ValidationFailed(_("La demande est incomplète."), problems)
    if transition.source == State.RETURNED and target != State.WITHDRAWN:
        if application.returned_from != target:
            raise InvalidState(_("La demande revient à l'étape qui l'a renvoyée."))
        problems = completeness_problems(application)
        if problems:
            raise ValidationFailed(_("La demande est incomplète."), problems)
    if transition.source == State.SCIENTIFIC_REVIEW and target in (
        State.REGULATOR_REVIEW,
        State.AUTHORISED,
        State.REFUSED,
    ):
        opinion = latest_opinion(application)
        if opinion is None:
            raise InvalidState(_("Le comité n'a pas encore rendu son avis."))
        favourable = opinion.outcome != OpinionOutcome.UNFAVOURABLE
        # MR-007/MR-008: only an expressly favourable opinion opens the data.
        if target == State.AUTHORISED and not favourable:
            raise InvalidState(_("Un avis défavorable ne permet pas l'accès par cette voie."))
        if target == State.REFUSED and favourable:
            raise InvalidState(_("L'avis du comité est favorable."))
    if transition.source == State.REGULATOR_REVIEW and target in (
        State.AUTHORISED,
        State.REFUSED,
    ):
        decision = latest_decision(application)
        if decision is None or decision.outcome != target:
            raise InvalidState(_("La décision motivée doit être enregistrée d'abord."))
    if target == State.CONTRACT_SIGNED and not hasattr(application, "permit"):
        raise InvalidState(_("Aucune autorisation n'a été délivrée."))
