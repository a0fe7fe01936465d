"""E-mails sent when a release request moves. Sent after the commit, with no file content."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils.translation import gettext as _

from hdh.accounts.models import User
from hdh.airlock.models import ReleaseRequest, Review
from hdh.core.permissions import Role


def _absolute(path: str) -> str:
    base = str(getattr(settings, "HDH_BASE_URL", "") or "").rstrip("/")
    return f"{base}{path}"


def recipients(request: ReleaseRequest, audiences: Iterable[Any]) -> list[str]:
    from hdh.airlock.permissions import is_part_of

    users: set[User] = set()
    for audience in audiences:
        if audience == "team":
            ids = request.workspace.permit.member_ids()
            users.update(User.objects.filter(pk__in=ids, is_active=True))
        elif audience == "reviewers":
            ids = set(
                Review.objects.filter(request=request, turn__gte=request.turn - 1).values_list(
                    "checker_id", flat=True
                )
            )
            users.update(User.objects.filter(pk__in=ids, is_active=True))
        elif audience == "checkers":
            checkers = User.objects.filter(
                role_assignments__role=Role.OUTPUT_CHECKER, is_active=True
            ).distinct()
            users.update(u for u in checkers if not is_part_of(u, request))
    return sorted({u.email for u in users if u.email})


def on_transition(request: ReleaseRequest, audiences: Iterable[Any]) -> None:
    to = recipients(request, audiences)
    if not to:
        return
    label = request.get_state_display()
    subject = _("[hdh] Demande de sortie %(reference)s : %(state)s") % {
        "reference": request.reference,
        "state": label,
    }
    body = _(
        "La demande de sortie %(reference)s est passée à l'étape « %(state)s ».\n\n"
        "Consultez-la sur la plateforme : %(path)s\n"
    ) % {
        "reference": request.reference,
        "state": label,
        "path": _absolute(request.get_absolute_url()),
    }
    sender = getattr(settings, "DEFAULT_FROM_EMAIL", "hdh@localhost")
    transaction.on_commit(lambda: send_mail(subject, body, sender, to, fail_silently=True))
