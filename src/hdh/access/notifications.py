"""E-mails sent when an application moves. Sent after the commit, never with health data."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils.translation import gettext as _

from hdh.access.models import Application, Review, TeamMember
from hdh.accounts.models import User
from hdh.core.permissions import Role

if TYPE_CHECKING:
    from hdh.access.workflow import Notify

_ROLE_OF = {
    "officers": Role.GUICHET_OFFICER,
    "committee": Role.COMMITTEE_MEMBER,
    "regulators": Role.REGULATOR,
    "data_engineers": Role.DATA_ENGINEER,
}


def recipients(application: Application, audiences: Iterable[Notify]) -> list[str]:
    emails: set[str] = set()
    for audience in audiences:
        if audience == "team":
            users = User.objects.filter(
                pk__in=TeamMember.objects.filter(application=application).values("user_id")
            )
        elif audience == "committee" and application.reviews.exists():
            users = User.objects.filter(
                pk__in=Review.objects.filter(application=application).values("reviewer_id")
            )
        else:
            users = User.objects.filter(role_assignments__role=_ROLE_OF[str(audience)])
        emails.update(users.filter(is_active=True).values_list("email", flat=True))
    return sorted(e for e in emails if e)


def absolute(path: str) -> str:
    """``path`` on the site's public address (``HDH_BASE_URL``), for links in e-mails."""
    base = str(getattr(settings, "HDH_BASE_URL", "") or "").rstrip("/")
    return f"{base}{path}"


def on_transition(application: Application, state: str, audiences: Iterable[Notify]) -> None:
    to = recipients(application, audiences)
    if not to:
        return
    reference = application.project.reference
    label = application.get_state_display()
    subject = _("[hdh] Demande %(reference)s : %(state)s") % {
        "reference": reference,
        "state": label,
    }
    body = _(
        "La demande %(reference)s est passée à l'étape « %(state)s ».\n\n"
        "Consultez-la sur la plateforme : %(path)s\n"
    ) % {"reference": reference, "state": label, "path": absolute(application.get_absolute_url())}
    sender = getattr(settings, "DEFAULT_FROM_EMAIL", "hdh@localhost")
    transaction.on_commit(lambda: send_mail(subject, body, sender, to, fail_silently=True))


def on_message(application: Application, to: list[str]) -> None:
    if not to:
        return
    subject = _("[hdh] Nouveau message sur la demande %(reference)s") % {
        "reference": application.project.reference
    }
    body = _("Un nouveau message vous attend : %(path)s\n") % {
        "path": absolute(application.get_absolute_url())
    }
    sender = getattr(settings, "DEFAULT_FROM_EMAIL", "hdh@localhost")
    transaction.on_commit(lambda: send_mail(subject, body, sender, to, fail_silently=True))
