"""Who may deposit data for which base, and who may read a deposit's report.

Deposits: producers of the base's holder organisation (any producer while the
base names no holder). Reports: the depositor; producers of the base's holder
organisation; platform staff (administrators, ``is_staff``) who also hold the
lake permission. A base without a holder organisation shows its reports to its
depositors and staff only: default deny.
"""

from __future__ import annotations

from typing import Any

from hdh.accounts.authorization import has_permission
from hdh.core.permissions import Permission, register_object_rule


def _holder_rule(user: Any, perm: Permission, obj: Any) -> str | None:
    if perm != Permission.LAKE_DEPOSIT:
        return None
    holder_id = getattr(obj, "holder_organisation_id", None)
    if holder_id is None:
        return None
    if getattr(user, "organisation_id", None) != holder_id:
        return "only producers of the base's holder organisation deposit its data"
    return None


def _report_rule(user: Any, perm: Permission, obj: Any) -> str | None:
    """Reading a deposit's report (``LAKE_DEPOSIT`` checked on the deposit)."""
    if perm != Permission.LAKE_DEPOSIT:
        return "a deposit only answers lake.deposit"
    if _is_depositor(user, obj) or getattr(user, "is_staff", False):
        return None
    holder_id = getattr(obj.base, "holder_organisation_id", None)
    if holder_id is None:
        return "the base has no holder organisation: its reports are its depositors'"
    if getattr(user, "organisation_id", None) != holder_id:
        return "only producers of the base's holder organisation read its reports"
    return None


def _is_depositor(user: Any, deposit: Any) -> bool:
    return getattr(user, "pk", None) is not None and deposit.created_by_id == user.pk


def may_read_report(user: Any, deposit: Any) -> bool:
    """The depositor, or whoever holds ``LAKE_DEPOSIT`` on the deposit (denials audited)."""
    if getattr(user, "is_active", False) and _is_depositor(user, deposit):
        return True
    return has_permission(user, Permission.LAKE_DEPOSIT, deposit)


_registered = False


def register() -> None:
    global _registered
    if _registered:
        return
    from hdh.catalog.models import Base
    from hdh.lake.models import Deposit

    register_object_rule(Base, _holder_rule)
    register_object_rule(Deposit, _report_rule)
    _registered = True
