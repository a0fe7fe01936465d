"""The project team: who works on the data, in which project role."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from hdh.access import policies
from hdh.access.models import Application, TeamMember
from hdh.access.services._common import require_on
from hdh.accounts.models import User
from hdh.audit import services as audit
from hdh.core import clock
from hdh.core.errors import InvalidState, ValidationFailed
from hdh.core.governance import service_writes
from hdh.core.permissions import Permission, ProjectRole

MAX_MEMBERS = 50


def add_member(*, by: User, application: Application, user: User, role: str) -> TeamMember:
    require_on(by, Permission.APPLICATION_EDIT, application)
    if role not in {r.value for r in ProjectRole}:
        raise ValidationFailed(_("Rôle inconnu."), ["role"])
    if not user.is_active:
        raise ValidationFailed(_("Ce compte n'est pas actif."), ["user"])
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        policies.ensure_editable(locked)
        if TeamMember.objects.filter(application=locked, user=user).exists():
            raise ValidationFailed(_("Cette personne fait déjà partie de l'équipe."), ["user"])
        if TeamMember.objects.filter(application=locked).count() >= MAX_MEMBERS:
            raise ValidationFailed(_("L'équipe est complète."), ["user"])
        with service_writes():
            member = TeamMember.objects.create(
                application=locked, user=user, role=role, added_at=clock.now()
            )
        audit.record(
            action="access.team.member_added",
            by=by,
            target=locked,
            details={"user_id": user.pk, "role": role},
        )
    return member


def remove_member(*, by: User, application: Application, member_id: int) -> None:
    require_on(by, Permission.APPLICATION_EDIT, application)
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        policies.ensure_editable(locked)
        member = TeamMember.objects.filter(application=locked, pk=member_id).first()
        if member is None:
            raise ValidationFailed(_("Ce membre n'existe pas."), ["member"])
        if member.user_id == by.pk:
            raise InvalidState(_("Vous ne pouvez pas vous retirer vous-même de l'équipe."))
        with service_writes():
            member.delete()
        audit.record(
            action="access.team.member_removed",
            by=by,
            target=locked,
            details={"user_id": member.user_id, "role": member.role},
        )
