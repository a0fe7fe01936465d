"""Messages between the applicant's team and the staff handling the file."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from hdh.access import notifications
from hdh.access.models import Application, Message, TeamMember
from hdh.access.models.messages import MESSAGE_LIMIT
from hdh.access.services._common import require_on, require_text
from hdh.access.services.applications import EDITABLE_FIELDS
from hdh.accounts.models import User
from hdh.audit import services as audit
from hdh.core import clock
from hdh.core.errors import InvalidState, ValidationFailed
from hdh.core.governance import service_writes
from hdh.core.permissions import Permission


def post_message(*, by: User, application: Application, body: str, question: str = "") -> Message:
    require_on(by, Permission.APPLICATION_VIEW, application)
    body = require_text(body, _("Message"), MESSAGE_LIMIT)
    if question and question not in EDITABLE_FIELDS:
        raise ValidationFailed(_("Question inconnue."), ["question"])
    if application.is_final:
        raise InvalidState(_("Le dossier est clos."))
    with transaction.atomic():
        with service_writes():
            message = Message.objects.create(
                application=application,
                author=by,
                body=body,
                question=question,
                sent_at=clock.now(),
            )
        audit.record(
            action="access.message.posted",
            by=by,
            target=application,
            details={"message_id": message.pk, "question": question},
        )
        in_team = TeamMember.objects.filter(application=application, user_id=by.pk).exists()
        if in_team:
            # Staff who touched the file hear about it; others see it in their queue.
            staff_ids = application.history.exclude(by=None).values_list("by_id", flat=True)
            team_ids = application.team.values_list("user_id", flat=True)
            to = User.objects.filter(pk__in=staff_ids).exclude(pk__in=team_ids)
        else:
            to = User.objects.filter(pk__in=application.team.values_list("user_id", flat=True))
        emails = sorted({e for e in to.values_list("email", flat=True) if e})
        notifications.on_message(application, emails)
    return message
