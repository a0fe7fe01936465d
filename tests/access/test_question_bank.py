"""The operator-editable question bank: version 1 comes from the migration, editing adds a
version, answers keep theirs, and a base may add its own questions."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from hdh.access import policies, questions
from hdh.access.models import ExtraAnswer, QuestionVersion
from hdh.access.services import applications
from hdh.access.services import questions as bank
from hdh.audit.models import AuditEvent
from hdh.core.errors import InvalidState, NotAllowed, ValidationFailed
from tests.access.helpers import client_for
from tests.factories.access import Staff, create_draft, researcher
from tests.factories.catalog import create_test_base

pytestmark = pytest.mark.django_db

BUILT_IN = {
    "title", "lay_summary", "technical_summary", "purpose", "public_interest",
    "expected_outputs", "controller_name", "implementer_name", "funding",
    "declarations_of_interest", "period_start", "period_end", "population_criteria",
    "linkages", "duration_months", "processing_location",
}  # fmt: skip


def test_the_code_defined_questions_are_version_1() -> None:
    current = questions.bank()
    assert {q.key for q in current} == BUILT_IN
    assert {q.version for q in current} == {1}
    assert current[0].key == "title"
    assert questions.by_key()["purpose"].label == "Finalité"
    # An application filed on them is complete: existing answers stay valid.
    assert policies.completeness_problems(create_draft()) == []


def test_editing_adds_a_version_and_keeps_the_old_one() -> None:
    officer = Staff().officer
    application = create_draft()
    revised = bank.revise(by=officer, key="purpose", label="Finalité du traitement")
    assert revised.version == 2
    rows = QuestionVersion.objects.filter(key="purpose").order_by("version")
    assert [(r.version, r.current, r.label) for r in rows] == [
        (1, False, "Finalité"),
        (2, True, "Finalité du traitement"),
    ]
    assert application.answer_versions["purpose"] == 1
    assert [q.key for q in questions.outdated_answers(application)] == ["purpose"]
    event = AuditEvent.objects.get(action="access.question.revised")
    assert event.details == {"key": "purpose", "version": 2}
    # The form shows the current wording.
    applications.update_application(
        by=application.created_by,  # type: ignore[arg-type]
        application=application,
        purpose="Reformulée.",
    )
    application.refresh_from_db()
    assert application.answer_versions["purpose"] == 2


def test_only_the_guichet_edits_and_bad_edits_are_refused() -> None:
    officer = Staff().officer
    with pytest.raises(NotAllowed):
        bank.revise(by=researcher(), key="purpose", label="Piratée")
    assert AuditEvent.objects.filter(action="permission.denied").exists()
    for key, label in (("purpose", ""), ("purpose", "Finalité"), ("nope", "X"), ("x" * 500, "X")):
        with pytest.raises(ValidationFailed):
            bank.revise(
                by=officer, key=key, label=label, help_text="Ce que le projet cherche à établir."
            )
    with pytest.raises(ValidationFailed):
        bank.revise(by=officer, key="purpose", label="x" * 301)
    with pytest.raises(InvalidState):
        bank.retire(by=officer, key="purpose")
    assert QuestionVersion.objects.filter(key="purpose").count() == 1


def test_a_base_asks_its_own_questions_when_it_is_in_the_perimeter() -> None:
    officer = Staff().officer
    base = create_test_base()
    question = bank.add_base_question(
        by=officer, base=base, label="Justifiez l'accès aux données de ville.", required=True
    )
    concerned = create_draft(base=base)
    other = create_draft(base=create_test_base(slug="autre-base"))
    assert [q.key for q in questions.for_application(concerned)] == [question.key]
    assert questions.for_application(other) == ()
    problems = policies.completeness_problems(concerned)
    assert any("données de ville" in p for p in problems)
    assert policies.completeness_problems(other) == []

    owner = concerned.created_by
    answer = bank.answer_extra(by=owner, application=concerned, key=question.key, text="Parce que.")  # type: ignore[arg-type]
    assert answer.question.version == 1
    assert policies.completeness_problems(concerned) == []
    with pytest.raises(ValidationFailed):  # not a question of this file
        bank.answer_extra(by=other.created_by, application=other, key=question.key, text="x")  # type: ignore[arg-type]
    with pytest.raises(NotAllowed):
        bank.answer_extra(by=researcher(), application=concerned, key=question.key, text="x")
    for key, text in (("../../etc", "x"), (question.key, "x" * 10001)):
        with pytest.raises(ValidationFailed):
            bank.answer_extra(by=owner, application=concerned, key=key, text=text)  # type: ignore[arg-type]

    bank.revise(by=officer, key=question.key, label="Justifiez l'accès au DCIR.")
    assert [q.key for q in questions.outdated_answers(concerned)] == [question.key]
    bank.answer_extra(by=owner, application=concerned, key=question.key, text="Le DCIR.")  # type: ignore[arg-type]
    assert ExtraAnswer.objects.get(application=concerned).question.version == 2
    assert questions.outdated_answers(concerned) == []

    bank.retire(by=officer, key=question.key)
    assert questions.for_application(concerned) == ()


def test_the_questions_page_is_the_guichets(client: Client) -> None:
    url = reverse("access:questions")
    assert client.get(url).status_code == 302  # sign in first
    assert client_for(researcher()).get(url).status_code == 403
    officer = client_for(Staff().officer)
    page = officer.get(url)
    assert page.status_code == 200
    assert "lay_summary" in page.content.decode()
    revise = reverse("access:question_revise", args=["purpose"])
    response = officer.post(revise, {"label": "Finalité du projet", "required": "on"})
    assert response.status_code == 302
    assert questions.by_key()["purpose"].version == 2
    # Hostile input: an empty label, an unknown key, an unknown base; nothing changes.
    officer.post(revise, {"label": ""})
    officer.post(reverse("access:question_revise", args=["inconnue"]), {"label": "X"})
    officer.post(reverse("access:question_add"), {"base": "nope", "label": "X"})
    assert QuestionVersion.objects.count() == len(BUILT_IN) + 1
    base = create_test_base()
    officer.post(reverse("access:question_add"), {"base": base.slug, "label": "Pourquoi ?"})
    assert QuestionVersion.objects.filter(base=base).count() == 1


def test_version_1_wording_is_shown_in_english_and_an_edited_wording_as_written() -> None:
    from django.utils import translation

    from hdh.access.forms import ApplicationForm

    with translation.override("en"):
        assert ApplicationForm().fields["purpose"].label == "Purpose"
    officer = Staff().officer
    bank.revise(by=officer, key="purpose", label="Finalité du traitement")
    with translation.override("en"):
        assert ApplicationForm().fields["purpose"].label == "Finalité du traitement"
    # Every version-1 wording seeded by the migration is in the catalogue.
    assert {q.label for q in questions.bank() if q.key != "purpose"} <= set(
        questions.ORIGINAL_WORDING
    )
