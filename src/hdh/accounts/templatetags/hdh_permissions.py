"""``{% may user "release.review" as allowed %}``: whether to show a link or a button.

Display only (no audit); the view behind the link checks again, and audits.
"""

from __future__ import annotations

from typing import Any

from django import template

from hdh.accounts.authorization import has_permission
from hdh.core.permissions import Permission

register = template.Library()


@register.simple_tag
def may(user: Any, permission: str, obj: Any = None) -> bool:
    try:
        perm = Permission(permission)
    except ValueError:
        return False
    return has_permission(user, perm, obj, audit=False)
