"""Editing the question bank, and answering a base's own questions.

Editing never rewrites a wording: it adds a version and retires the previous one,
so every answer keeps the exact question it answered.
"""

from __future__ import annotations

import re

from django.db import transaction
from django.utils.translation import gettext as _

from hdh.access import policies
from hdh.access.models import Application, ExtraAnswer, QuestionVersion
from hdh.access.services._common import require_on, require_text
from hdh.accounts.authorization import require_permission
from hdh.accounts.models import User
from hdh.audit import services as audit
from hdh.catalog.models import Base
from hdh.core import clock
from hdh.core.errors import InvalidState, ValidationFailed
from hdh.core.governance import service_writes
from hdh.core.permissions import Permission

# Editing the form is the guichet's work.
EDIT_QUESTIONS = Permission.APPLICATION_ADMISSIBILITY
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")


def _current(key: str) -> QuestionVersion:
    found = QuestionVersion.objects.select_for_update().filter(key=key, current=True).first()
    if found is None:
        raise ValidationFailed(_("Question inconnue."), ["key"])
    return found


def _clean(label: str, help_text: str, section: str) -> tuple[str, str, str]:
    return (
        require_text(label, _("Intitulé"), 300),
        (help_text or "").strip()[:1000],
        (section or "").strip()[:100],
    )


def revise(
    *,
    by: User,
    key: str,
    label: str,
    help_text: str = "",
    required: bool | None = None,
    section: str | None = None,
) -> QuestionVersion:
    """A new wording of question ``key``: a new version; the old one is kept, retired."""
    require_permission(by, EDIT_QUESTIONS)
    with transaction.atomic():
        previous = _current(str(key)[:60])
        label, help_text, section = _clean(
            label, help_text, previous.section if section is None else section
        )
        if (label, help_text, section) == (
            previous.label,
            previous.help_text,
            previous.section,
        ) and (required is None or required == previous.required):
            raise ValidationFailed(_("Rien n'a changé."), ["label"])
        with service_writes():
            previous.current = False
            previous.save(update_fields=["current"])
            question = QuestionVersion.objects.create(
                key=previous.key,
                version=previous.version + 1,
                label=label,
                help_text=help_text,
                required=previous.required if required is None else required,
                section=section,
                position=previous.position,
                base=previous.base,
                current=True,
                created_by=by,
                created_at=clock.now(),
            )
        audit.record(
            action="access.question.revised",
            by=by,
            target=question,
            details={"key": question.key, "version": question.version},
        )
    return question


def add_base_question(
    *,
    by: User,
    base: Base,
    label: str,
    help_text: str = "",
    required: bool = False,
) -> QuestionVersion:
    """A question asked only of applications whose perimeter includes ``base``."""
    require_permission(by, EDIT_QUESTIONS)
    label, help_text, _section = _clean(label, help_text, "")
    with transaction.atomic():
        taken = QuestionVersion.objects.filter(key__startswith=f"{base.slug[:40]}-").count()
        key = f"{base.slug[:40]}-{taken + 1}"
        while QuestionVersion.objects.filter(key=key).exists():
            taken += 1
            key = f"{base.slug[:40]}-{taken + 1}"
        with service_writes():
            question = QuestionVersion.objects.create(
                key=key,
                version=1,
                label=label,
                help_text=help_text,
                required=required,
                section=base.acronym or base.title[:100],
                position=1000 + taken,
                base=base,
                current=True,
                created_by=by,
                created_at=clock.now(),
            )
        audit.record(
            action="access.question.added",
            by=by,
            target=question,
            details={"key": key, "base": base.slug},
        )
    return question


def retire(*, by: User, key: str) -> None:
    """Stop asking a base's own question (core questions are answered in fields: kept)."""
    require_permission(by, EDIT_QUESTIONS)
    with transaction.atomic():
        question = _current(str(key)[:60])
        if question.base_id is None:
            raise InvalidState(_("Une question du formulaire commun ne peut être retirée."))
        with service_writes():
            question.current = False
            question.save(update_fields=["current"])
        audit.record(
            action="access.question.retired",
            by=by,
            target=question,
            details={"key": question.key, "version": question.version},
        )


def answer_extra(*, by: User, application: Application, key: str, text: str) -> ExtraAnswer:
    """Answer one of the questions of a base in the perimeter, at its current version."""
    require_on(by, Permission.APPLICATION_EDIT, application)
    policies.ensure_editable(application)
    if not _KEY.match(str(key)):
        raise ValidationFailed(_("Question inconnue."), ["key"])
    text = (text or "").strip()
    if len(text) > 10000:
        raise ValidationFailed(_("Réponse : 10000 caractères au plus."), ["text"])
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        policies.ensure_editable(locked)
        question = QuestionVersion.objects.filter(
            key=key,
            current=True,
            base_id__in=locked.perimeter.values("base_id"),
        ).first()
        if question is None:
            raise ValidationFailed(_("Cette question ne concerne pas la demande."), ["key"])
        with service_writes():
            answer, _created = ExtraAnswer.objects.update_or_create(
                application=locked,
                key=key,
                defaults={"question": question, "text": text, "answered_at": clock.now()},
            )
            locked.updated_at = clock.now()
            locked.save(update_fields=["updated_at"])
        audit.record(
            action="access.application.extra_answered",
            by=by,
            target=locked,
            details={"key": key, "version": question.version},
        )
    return answer
