"""Factories for the guichet, and helpers that drive the real services to a state.

``create_application_at(State.REGULATOR_REVIEW)`` files a complete application
and takes it there through the same services the pages use, with staff created
on the way (STYLE item 10: no rows written by hand).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from hdh.access.models import Application, OpinionOutcome
from hdh.access.services import applications, decisions, perimeter, reviews
from hdh.access.states import DECLARATION_ONLY, LegalRoute, State
from hdh.accounts.models import User
from hdh.catalog.models import Base
from hdh.core import clock
from hdh.core.permissions import Role
from tests.factories.accounts import UserFactory
from tests.factories.catalog import create_test_base

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"

COMPLETE_FORM: dict[str, Any] = {
    "lay_summary": "Comprendre le parcours de soins des patients diabétiques.",
    "technical_summary": "Cohorte rétrospective, modèles de survie.",
    "purpose": "Évaluer l'effet des parcours de soins sur les complications.",
    "public_interest": "Améliorer la prise en charge du diabète.",
    "controller_name": "Institut de recherche de test",
    "implementer_name": "Équipe d'épidémiologie",
    "expected_outputs": "Articles scientifiques et tableaux agrégés.",
    "duration_months": 24,
    "processing_location": "Plateforme hdh (espace projet)",
    "period_start": dt.date(2018, 1, 1),
    "period_end": dt.date(2022, 12, 31),
    "population_criteria": "Adultes traités pour un diabète de type 2.",
}


def researcher(**kwargs: Any) -> User:
    return UserFactory(roles=[Role.RESEARCHER], **kwargs)


def staff(role: Role, **kwargs: Any) -> User:
    return UserFactory(roles=[role], **kwargs)


def protocol_upload(content: bytes = PDF, name: str = "protocole.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def create_draft(
    *,
    by: User | None = None,
    route: str = LegalRoute.STANDARD,
    complete: bool = True,
    base: Base | None = None,
    title: str = "Parcours de soins du diabète",
) -> Application:
    by = by or researcher()
    application = applications.create_application(by=by, title=title, legal_route=route)
    if complete:
        applications.update_application(by=by, application=application, **COMPLETE_FORM)
        perimeter.add_items(
            by=by,
            application=application,
            base=base or create_test_base(),
            justification="Les remboursements décrivent le parcours de soins.",
        )
        applications.attach_protocol(by=by, application=application, upload=protocol_upload())
    application.refresh_from_db()
    return application


@dataclass
class Staff:
    """One person per staff role, created when first needed."""

    _people: dict[Role, User] = field(default_factory=dict)

    def __getitem__(self, role: Role) -> User:
        if role not in self._people:
            self._people[role] = staff(role)
        return self._people[role]

    @property
    def officer(self) -> User:
        return self[Role.GUICHET_OFFICER]

    @property
    def reviewer(self) -> User:
        return self[Role.COMMITTEE_MEMBER]

    @property
    def regulator(self) -> User:
        return self[Role.REGULATOR]

    @property
    def engineer(self) -> User:
        return self[Role.DATA_ENGINEER]


# The path of each route through the workflow, as the pages walk it.
_STANDARD_PATH = (
    State.SUBMITTED,
    State.ADMISSIBILITY,
    State.SCIENTIFIC_REVIEW,
    State.REGULATOR_REVIEW,
    State.AUTHORISED,
    State.CONTRACT_SIGNED,
    State.DATA_PREPARATION,
    State.WORKSPACE_OPEN,
    State.CLOSED,
)


def _step(application: Application, target: State, team: Staff) -> None:
    by_applicant = application.created_by
    assert by_applicant is not None
    if target == State.SUBMITTED:
        applications.submit(by=by_applicant, application=application)
    elif target == State.ADMISSIBILITY:
        reviews.take_up(by=team.officer, application=application)
    elif target in (State.SCIENTIFIC_REVIEW, State.AUTHORISED) and application.state == (
        State.ADMISSIBILITY
    ):
        reviews.accept(by=team.officer, application=application)
    elif target == State.REGULATOR_REVIEW or (
        target == State.AUTHORISED and application.state == State.SCIENTIFIC_REVIEW
    ):
        reviews.assign_reviewer(by=team.officer, application=application, reviewer=team.reviewer)
        reviews.declare_interests(by=team.reviewer, application=application, has_conflict=False)
        reviews.give_opinion(
            by=team.reviewer,
            application=application,
            opinion=OpinionOutcome.FAVOURABLE,
            rationale="Méthode solide.",
        )
        reviews.committee_opinion(
            by=team.reviewer,
            application=application,
            outcome=OpinionOutcome.FAVOURABLE,
            rationale="Projet d'intérêt public, méthode adaptée.",
        )
    elif target == State.AUTHORISED:
        decisions.decide(
            by=team.regulator,
            application=application,
            outcome="authorised",
            rationale="Conforme.",
            conditions="Pas d'appariement.",
            end_date=clock.today() + dt.timedelta(days=365),
        )
    elif target == State.CONTRACT_SIGNED:
        decisions.sign_contract(by=team.officer, application=application)
    elif target == State.DATA_PREPARATION:
        decisions.start_preparation(by=team.engineer, application=application)
    elif target == State.WORKSPACE_OPEN:
        decisions.open_workspace(by=team.engineer, application=application)
    elif target == State.CLOSED:
        decisions.close(by=team.officer, application=application)
    else:  # pragma: no cover - a new state needs a step here
        raise AssertionError(f"no step to {target}")
    application.refresh_from_db()


def path_to(state: State, route: str = LegalRoute.STANDARD) -> list[State]:
    if state == State.DRAFT:
        return []
    if state == State.RETURNED:
        return [State.SUBMITTED, State.ADMISSIBILITY]
    if state in (State.WITHDRAWN, State.REFUSED):
        return [State.SUBMITTED, State.ADMISSIBILITY]
    steps = list(_STANDARD_PATH)
    if route in DECLARATION_ONLY:
        steps.remove(State.SCIENTIFIC_REVIEW)
        steps.remove(State.REGULATOR_REVIEW)
    elif route != LegalRoute.STANDARD:
        steps.remove(State.REGULATOR_REVIEW)
    return steps[: steps.index(state) + 1]


def create_application_at(
    state: State,
    *,
    route: str = LegalRoute.STANDARD,
    by: User | None = None,
    team: Staff | None = None,
    base: Base | None = None,
) -> Application:
    """A complete application taken to ``state`` by the real services."""
    team = team or Staff()
    application = create_draft(by=by, route=route, base=base)
    for target in path_to(state, route):
        _step(application, target, team)
    if state == State.RETURNED:
        reviews.return_to_applicant(
            by=team.officer, application=application, message="Merci de préciser la période."
        )
    elif state == State.WITHDRAWN:
        applications.withdraw(by=application.created_by, application=application)  # type: ignore[arg-type]
    elif state == State.REFUSED:
        reviews.declare_inadmissible(
            by=team.officer, application=application, rationale="Hors du champ de la plateforme."
        )
    application.refresh_from_db()
    assert application.state == state, (application.state, state)
    return application
