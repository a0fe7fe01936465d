"""Helpers shared by the guichet's services."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from hdh.access.models import Application
from hdh.accounts.authorization import require_permission
from hdh.core.errors import InvalidState, ValidationFailed
from hdh.core.permissions import Permission


def problems_of(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [
            f"{field}: {message}"
            for field, messages in error.message_dict.items()
            for message in messages
        ]
    return list(error.messages)


def validate(instance: Any, *, exclude: list[str] | None = None) -> None:
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as exc:
        raise ValidationFailed(_("Saisie invalide."), problems_of(exc)) from exc


def require_text(value: str, what: str, limit: int = 10000) -> str:
    cleaned = (value or "").strip()
    if not cleaned:
        raise ValidationFailed(_("%(what)s : obligatoire.") % {"what": what}, [what])
    if len(cleaned) > limit:
        raise ValidationFailed(
            _("%(what)s : %(limit)s caractères au plus.") % {"what": what, "limit": limit},
            [what],
        )
    return cleaned


def require_on(by: Any, perm: Permission, application: Application) -> None:
    if by is None:
        raise InvalidState("this action needs a person")
    require_permission(by, perm, application)
