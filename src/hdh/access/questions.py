"""The question bank: each question of the application form, with its version.

Questions live in the database (:class:`~hdh.access.models.QuestionVersion`) so that
the guichet edits them without a release; the form's first questions, as the code
defined them, are version 1 (migration ``0005_question_bank``). Editing a question
adds a version (``hdh.access.services.questions``); answers given to an earlier
version are shown as "to be checked" (``outdated_answers``). Every answer records
the version of the question it answers (``Application.answer_versions`` for the
core questions, ``ExtraAnswer.question`` for a base's own questions). The core
follows the EHDS application content (art. 67) and the SNDS dossier (purpose,
public interest, data, duration, safeguards).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext, gettext_noop

from hdh.access.models import ExtraAnswer, QuestionVersion

if TYPE_CHECKING:
    from hdh.access.models import Application

# The version of the form as a whole, recorded on each application.
FORM_VERSION = 1


@dataclass(frozen=True)
class Question:
    key: str
    version: int
    label: str
    help_text: str
    required: bool
    section: str
    base_id: int | None = None

    @classmethod
    def of(cls, row: QuestionVersion) -> Question:
        return cls(
            key=row.key,
            version=row.version,
            label=row.label,
            help_text=row.help_text,
            required=row.required,
            section=row.section,
            base_id=row.base_id,
        )


# The wording of version 1 (seeded in the database by migration 0005) stays in
# the translation catalogue: a question whose stored wording is one of these is
# shown translated; an operator's new wording is shown as written.
ORIGINAL_WORDING = (
    gettext_noop("Titre du projet"),
    gettext_noop("Le projet"),
    gettext_noop("Résumé grand public"),
    gettext_noop("Publié dans le répertoire public : sans jargon, en quelques phrases."),
    gettext_noop("Résumé technique"),
    gettext_noop("Méthode et analyses."),
    gettext_noop("Finalité"),
    gettext_noop("Ce que le projet cherche à établir."),
    gettext_noop("Intérêt public"),
    gettext_noop("En quoi le projet sert l'intérêt public (CSP L.1461-1)."),
    gettext_noop("Résultats attendus"),
    gettext_noop("Responsable de traitement"),
    gettext_noop("L'organisme qui détermine les finalités et les moyens du traitement."),
    gettext_noop("Responsabilités et financement"),
    gettext_noop("Responsable de mise en œuvre"),
    gettext_noop("Financements"),
    gettext_noop("Déclarations d'intérêts"),
    gettext_noop("Liens d'intérêts de l'équipe avec des entreprises ou des organismes concernés."),
    gettext_noop("Début de la période étudiée"),
    gettext_noop("Données et traitement"),
    gettext_noop("Fin de la période étudiée"),
    gettext_noop("Critères de population"),
    gettext_noop("Qui est inclus et qui est exclu de l'étude."),
    gettext_noop("Appariements demandés"),
    gettext_noop("Sources à apparier et variables d'appariement, le cas échéant."),
    gettext_noop("Durée demandée (mois)"),
    gettext_noop("Entre 1 et 240 mois."),
    gettext_noop("Lieu du traitement"),
    gettext_noop("La plateforme ou l'environnement sécurisé où les données seront traitées."),
)


def shown(text: str) -> str:
    """A stored wording in the reader's language when the catalogue has it."""
    return gettext(text) if text else text


def bank() -> tuple[Question, ...]:
    """The core questions as currently worded, in the form's order."""
    rows = QuestionVersion.objects.filter(current=True, base__isnull=True)
    return tuple(Question.of(row) for row in rows.order_by("position", "key"))


def by_key() -> dict[str, Question]:
    return {question.key: question for question in bank()}


def for_application(application: Application) -> tuple[Question, ...]:
    """The current questions of the bases in the application's perimeter."""
    bases = application.perimeter.values("base_id")
    rows = QuestionVersion.objects.filter(current=True, base_id__in=bases)
    return tuple(Question.of(row) for row in rows.order_by("base_id", "position", "key"))


def extra_answers(application: Application) -> dict[str, ExtraAnswer]:
    return {
        answer.key: answer
        for answer in ExtraAnswer.objects.filter(application=application).select_related("question")
    }


def is_answered(application: Application, question: Question) -> bool:
    if question.base_id is not None:
        answer = extra_answers(application).get(question.key)
        return answer is not None and answer.text.strip() != ""
    value = getattr(application, question.key)
    return value is not None and str(value).strip() != ""


def outdated_answers(application: Application) -> list[Question]:
    """Answers given to an earlier wording of their question."""
    versions = application.answer_versions or {}
    outdated = [
        question
        for question in bank()
        if question.key in versions and int(versions[question.key]) < question.version
    ]
    extras = extra_answers(application)
    outdated += [
        question
        for question in for_application(application)
        if question.key in extras and extras[question.key].question.version < question.version
    ]
    return outdated
