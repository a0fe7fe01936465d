"""Demo applications in the states a visitor wants to see, filed by the demo accounts.

Idempotent: an application whose title already exists is left as it is. Needs a
catalog base to build perimeters from (the SNDS when the catalog demo is loaded).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile

from hdh.access.models import Application, OpinionOutcome
from hdh.access.services import applications, decisions, perimeter, reviews
from hdh.access.states import LegalRoute, State
from hdh.accounts.demo import create_demo_accounts
from hdh.accounts.models import User
from hdh.catalog.models import Base, Table
from hdh.core import clock

# A minimal valid PDF, standing in for a study protocol.
_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


@dataclass(frozen=True)
class _People:
    researcher: User
    officer: User
    reviewer: User
    regulator: User
    engineer: User


@dataclass(frozen=True)
class _Demo:
    title: str
    route: str
    state: State
    summary: str


_DEMOS = (
    _Demo(
        "Parcours de soins après un infarctus du myocarde",
        LegalRoute.STANDARD,
        State.DRAFT,
        "Décrire les parcours de soins des patients dans l'année qui suit un infarctus.",
    ),
    _Demo(
        "Recours aux urgences des personnes âgées en période de canicule",
        LegalRoute.STANDARD,
        State.SUBMITTED,
        "Mesurer l'effet des vagues de chaleur sur les passages aux urgences des plus de 75 ans.",
    ),
    _Demo(
        "Antidiabétiques et complications rénales",
        LegalRoute.STANDARD,
        State.SCIENTIFIC_REVIEW,
        "Comparer l'incidence des complications rénales selon le traitement antidiabétique.",
    ),
    _Demo(
        "Consommation d'antibiotiques chez l'enfant",
        LegalRoute.STANDARD,
        State.REGULATOR_REVIEW,
        "Suivre la consommation d'antibiotiques des moins de 15 ans depuis 2015.",
    ),
    _Demo(
        "Dépistage organisé du cancer colorectal",
        LegalRoute.STANDARD,
        State.AUTHORISED,
        "Évaluer la participation au dépistage organisé selon le territoire.",
    ),
    _Demo(
        "Échantillon pour l'enseignement de l'épidémiologie",
        LegalRoute.FAST_TRACK,
        State.AUTHORISED,
        "Former des étudiants à l'analyse des données de remboursement sur un échantillon.",
    ),
    _Demo(
        "Séjours hospitaliers pour chute",
        LegalRoute.MR005,
        State.RETURNED,
        "Décrire les séjours hospitaliers consécutifs à une chute.",
    ),
)


def _people() -> _People:
    create_demo_accounts()

    def get(username: str) -> User:
        return User.objects.get(username=username)

    return _People(
        researcher=get("demo-researcher"),
        officer=get("demo-guichet-officer"),
        reviewer=get("demo-committee-member"),
        regulator=get("demo-regulator"),
        engineer=get("demo-data-engineer"),
    )


def _perimeter(application: Application, by: User, base: Base) -> None:
    table = (
        Table.objects.filter(version_id=base.current_version_id, name="ER_PRS_F").first()
        or Table.objects.filter(version_id=base.current_version_id).first()
    )
    if table is None:
        perimeter.add_items(
            by=by, application=application, base=base, justification="Données de la base."
        )
        return
    variables = list(table.variables.all()[:3])
    perimeter.add_items(
        by=by,
        application=application,
        base=base,
        table=table,
        variables=variables,
        justification="Ces variables décrivent les soins remboursés étudiés.",
    )


def _file(demo: _Demo, people: _People, base: Base) -> Application:
    by = people.researcher
    application = applications.create_application(by=by, title=demo.title, legal_route=demo.route)
    applications.update_application(
        by=by,
        application=application,
        lay_summary=demo.summary,
        technical_summary=(
            "Étude observationnelle rétrospective sur données médico-administratives."
        ),
        purpose=demo.summary,
        public_interest="Améliorer la prise en charge et éclairer les politiques de santé.",
        controller_name="Institut de recherche en santé publique (démonstration)",
        implementer_name="Équipe d'épidémiologie (démonstration)",
        expected_outputs="Publications scientifiques et indicateurs agrégés.",
        duration_months=24,
        processing_location="Plateforme hdh, espace projet",
        period_start=dt.date(2018, 1, 1),
        period_end=dt.date(2023, 12, 31),
        population_criteria="Bénéficiaires de l'assurance maladie répondant aux critères.",
    )
    _perimeter(application, by, base)
    applications.attach_protocol(
        by=by,
        application=application,
        upload=SimpleUploadedFile("protocole.pdf", _PDF, content_type="application/pdf"),
    )
    return application


def _advance(application: Application, target: State, people: _People) -> None:
    steps: list[tuple[State, Callable[[], object]]] = [
        (
            State.SUBMITTED,
            lambda: applications.submit(by=people.researcher, application=application),
        ),
        (State.ADMISSIBILITY, lambda: reviews.take_up(by=people.officer, application=application)),
    ]
    for state, step in steps:
        step()
        if state == target:
            return
    if target == State.RETURNED:
        reviews.return_to_applicant(
            by=people.officer,
            application=application,
            message="Merci de préciser les critères d'inclusion des patients.",
        )
        return
    reviews.accept(by=people.officer, application=application)
    application.refresh_from_db()
    if application.state == target:
        return
    reviews.assign_reviewer(by=people.officer, application=application, reviewer=people.reviewer)
    reviews.declare_interests(by=people.reviewer, application=application, has_conflict=False)
    if target == State.SCIENTIFIC_REVIEW:
        return
    reviews.give_opinion(
        by=people.reviewer,
        application=application,
        opinion=OpinionOutcome.FAVOURABLE,
        rationale="Méthodologie adaptée, données proportionnées à la finalité.",
    )
    reviews.committee_opinion(
        by=people.reviewer,
        application=application,
        outcome=OpinionOutcome.FAVOURABLE_WITH_RECOMMENDATIONS,
        rationale="Projet d'intérêt public, méthodologie solide.",
        recommendations="Publier le protocole avant l'analyse.",
    )
    if target == State.REGULATOR_REVIEW:
        return
    decisions.decide(
        by=people.regulator,
        application=application,
        outcome="authorised",
        rationale="Traitement conforme ; garanties suffisantes.",
        conditions="Aucun appariement ; résultats agrégés seulement.",
        end_date=clock.today() + dt.timedelta(days=730),
    )


def load() -> str:
    base = Base.objects.filter(slug="snds").first() or Base.objects.order_by("pk").first()
    if base is None:
        return "no catalog base: demo applications skipped"
    people = _people()
    created = 0
    for demo in _DEMOS:
        if Application.objects.filter(title=demo.title, created_by=people.researcher).exists():
            continue
        application = _file(demo, people, base)
        if demo.state != State.DRAFT:
            _advance(application, demo.state, people)
        created += 1
    total = Application.objects.filter(created_by=people.researcher).count()
    return f"{created} demo application(s) added, {total} in all"


@dataclass(frozen=True)
class Study:
    """A demo study with a variable-level perimeter, for the demos of later stages."""

    title: str
    lay_summary: str
    technical_summary: str
    purpose: str
    public_interest: str
    implementer_name: str
    expected_outputs: str
    population_criteria: str
    justification: str
    # Table name -> authorised variables.
    perimeter: dict[str, list[str]]


def file_and_authorise(study: Study, base: Base) -> Application:
    """File ``study`` as demo-researcher and carry it to a signed contract (a permit)."""
    people = _people()
    researcher = people.researcher
    application = applications.create_application(
        by=researcher, title=study.title, legal_route=LegalRoute.STANDARD
    )
    applications.update_application(
        by=researcher,
        application=application,
        lay_summary=study.lay_summary,
        technical_summary=study.technical_summary,
        purpose=study.purpose,
        public_interest=study.public_interest,
        controller_name="Institut de recherche en santé publique (démonstration)",
        implementer_name=study.implementer_name,
        expected_outputs=study.expected_outputs,
        duration_months=12,
        processing_location="Plateforme hdh, espace projet",
        period_start=dt.date(2023, 1, 1),
        period_end=dt.date(2023, 12, 31),
        population_criteria=study.population_criteria,
    )
    for name, variables in study.perimeter.items():
        table = Table.objects.filter(version_id=base.current_version_id, name=name).first()
        if table is None:
            continue
        perimeter.add_items(
            by=researcher,
            application=application,
            base=base,
            table=table,
            variables=list(table.variables.filter(name__in=variables)),
            justification=study.justification,
        )
    applications.attach_protocol(
        by=researcher,
        application=application,
        upload=SimpleUploadedFile("protocole.pdf", _PDF, content_type="application/pdf"),
    )
    officer, reviewer = people.officer, people.reviewer
    applications.submit(by=researcher, application=application)
    reviews.take_up(by=officer, application=application)
    reviews.accept(by=officer, application=application)
    reviews.assign_reviewer(by=officer, application=application, reviewer=reviewer)
    reviews.declare_interests(by=reviewer, application=application, has_conflict=False)
    reviews.give_opinion(
        by=reviewer,
        application=application,
        opinion=OpinionOutcome.FAVOURABLE,
        rationale="Données proportionnées à la finalité.",
    )
    reviews.committee_opinion(
        by=reviewer,
        application=application,
        outcome=OpinionOutcome.FAVOURABLE,
        rationale="Projet d'intérêt public.",
    )
    decisions.decide(
        by=people.regulator,
        application=application,
        outcome="authorised",
        rationale="Traitement conforme.",
        conditions="Résultats agrégés seulement.",
        end_date=clock.today() + dt.timedelta(days=365),
    )
    decisions.sign_contract(by=officer, application=application)
    application.refresh_from_db()
    return application
