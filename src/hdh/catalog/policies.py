"""Who may edit which base: producers of the base's holder organisation."""

from __future__ import annotations

from typing import Any

from hdh.core.permissions import Permission, register_object_rule


def _holder_rule(user: Any, perm: Permission, obj: Any) -> str | None:
    if perm != Permission.CATALOG_EDIT:
        return None
    holder_id = getattr(obj, "holder_organisation_id", None)
    if holder_id is None:
        # A base without a holder organisation is edited by any data producer.
        return None
    if getattr(user, "organisation_id", None) != holder_id:
        return "only producers of the base's holder organisation edit it"
    return None


_registered = False


def register() -> None:
    global _registered
    if _registered:
        return
    from hdh.catalog.models import Base

    register_object_rule(Base, _holder_rule)
    _registered = True
