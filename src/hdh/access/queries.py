"""Read-side helpers: what a person sees in their lists and queues."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _

from hdh.access.models import Application, Review
from hdh.access.states import FINAL_STATES, State
from hdh.accounts.authorization import user_roles
from hdh.core import clock
from hdh.core.permissions import Role


def mine(user: Any) -> QuerySet[Application]:
    return (
        Application.objects.filter(team__user_id=user.pk)
        .select_related("project")
        .distinct()
        .order_by("-updated_at")
    )


@dataclass(frozen=True)
class Queue:
    title: str
    applications: list[Application]


def _not_own(user: Any, qs: QuerySet[Application]) -> QuerySet[Application]:
    return qs.exclude(project__applications__team__user_id=user.pk).exclude(created_by=user)


def staff_queues(user: Any) -> list[Queue]:
    roles = user_roles(user)
    base = Application.objects.select_related("project").order_by("stage_due_at", "pk")
    queues: list[Queue] = []
    if Role.GUICHET_OFFICER in roles:
        queues.append(
            Queue(
                _("Recevabilité"),
                list(_not_own(user, base.filter(state__in=[State.SUBMITTED, State.ADMISSIBILITY]))),
            )
        )
        queues.append(
            Queue(
                _("Convention à signer"), list(_not_own(user, base.filter(state=State.AUTHORISED)))
            )
        )
    if Role.COMMITTEE_MEMBER in roles:
        assigned = Review.objects.filter(reviewer_id=user.pk)
        queues.append(
            Queue(
                _("Examen par le comité"),
                list(
                    _not_own(user, base.filter(state=State.SCIENTIFIC_REVIEW))
                    # The reviewer's own files first.
                    .annotate(mine=Exists(assigned.filter(application_id=OuterRef("pk"))))
                    .order_by("-mine", "stage_due_at")
                ),
            )
        )
    if Role.REGULATOR in roles:
        queues.append(
            Queue(
                _("Décisions à rendre"),
                list(_not_own(user, base.filter(state=State.REGULATOR_REVIEW))),
            )
        )
    if Role.DATA_ENGINEER in roles:
        queues.append(
            Queue(
                _("Préparation des données"),
                list(base.filter(state__in=[State.CONTRACT_SIGNED, State.DATA_PREPARATION])),
            )
        )
    return queues


def overdue() -> QuerySet[Application]:
    """Files past their stage's deadline, not paused, not finished: the oldest first."""
    return (
        Application.objects.filter(stage_due_at__lt=clock.now(), paused_at__isnull=True)
        .exclude(state__in=FINAL_STATES)
        .select_related("project")
        .order_by("stage_due_at")
    )


def running() -> QuerySet[Application]:
    return (
        Application.objects.filter(stage_due_at__isnull=False)
        .exclude(state__in=FINAL_STATES)
        .select_related("project")
        .order_by("stage_due_at")
    )
