"""The question bank: each question of the application form, with its version.

A question's wording may change; its ``version`` then goes up, and answers given
to an earlier version are shown as "to be checked" (``outdated_answers``). Every
answer records the version of the question it answers
(``Application.answer_versions``). The core follows the EHDS application content
(art. 67) and the SNDS dossier (purpose, public interest, data, duration,
safeguards).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from hdh.access.models import Application

# The version of the form as a whole, recorded on each application.
FORM_VERSION = 1


@dataclass(frozen=True)
class Question:
    key: str
    version: int
    label: str | Promise
    help_text: str | Promise
    required: bool
    section: str | Promise


PROJECT = _("Le projet")
ROLES = _("Responsabilités et financement")
DATA = _("Données et traitement")

BANK: tuple[Question, ...] = (
    Question("title", 1, _("Titre du projet"), "", True, PROJECT),
    Question(
        "lay_summary",
        1,
        _("Résumé grand public"),
        _("Publié dans le répertoire public : sans jargon, en quelques phrases."),
        True,
        PROJECT,
    ),
    Question(
        "technical_summary", 1, _("Résumé technique"), _("Méthode et analyses."), True, PROJECT
    ),
    Question("purpose", 1, _("Finalité"), _("Ce que le projet cherche à établir."), True, PROJECT),
    Question(
        "public_interest",
        1,
        _("Intérêt public"),
        _("En quoi le projet sert l'intérêt public (CSP L.1461-1)."),
        True,
        PROJECT,
    ),
    Question("expected_outputs", 1, _("Résultats attendus"), "", True, PROJECT),
    Question(
        "controller_name",
        1,
        _("Responsable de traitement"),
        _("L'organisme qui détermine les finalités et les moyens du traitement."),
        True,
        ROLES,
    ),
    Question("implementer_name", 1, _("Responsable de mise en œuvre"), "", True, ROLES),
    Question("funding", 1, _("Financements"), "", False, ROLES),
    Question(
        "declarations_of_interest",
        1,
        _("Déclarations d'intérêts"),
        _("Liens d'intérêts de l'équipe avec des entreprises ou des organismes concernés."),
        False,
        ROLES,
    ),
    Question("period_start", 1, _("Début de la période étudiée"), "", True, DATA),
    Question("period_end", 1, _("Fin de la période étudiée"), "", True, DATA),
    Question(
        "population_criteria",
        1,
        _("Critères de population"),
        _("Qui est inclus et qui est exclu de l'étude."),
        True,
        DATA,
    ),
    Question(
        "linkages",
        1,
        _("Appariements demandés"),
        _("Sources à apparier et variables d'appariement, le cas échéant."),
        False,
        DATA,
    ),
    Question(
        "duration_months", 1, _("Durée demandée (mois)"), _("Entre 1 et 240 mois."), True, DATA
    ),
    Question(
        "processing_location",
        1,
        _("Lieu du traitement"),
        _("La plateforme ou l'environnement sécurisé où les données seront traitées."),
        True,
        DATA,
    ),
)
BY_KEY: dict[str, Question] = {question.key: question for question in BANK}


def is_answered(application: Application, question: Question) -> bool:
    value = getattr(application, question.key)
    return value is not None and str(value).strip() != ""


def outdated_answers(application: Application) -> list[Question]:
    """Answers given to an earlier wording of their question."""
    versions = application.answer_versions or {}
    return [
        question
        for question in BANK
        if question.key in versions and int(versions[question.key]) < question.version
    ]
