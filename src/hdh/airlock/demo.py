"""Demo data of the airlock: nothing to create, the demo checkers come from accounts.

``hdh demo`` creates ``demo-output-checker`` and ``demo-output-checker-2``
(``hdh.accounts.demo``): two independent checkers, the minimum for a release.
Release requests are made from the workspace's outputs through the pages.
"""

from __future__ import annotations

from hdh.accounts.models import User
from hdh.airlock.models import ReleaseRequest
from hdh.core.permissions import Role


def load() -> str:
    checkers = (
        User.objects.filter(role_assignments__role=Role.OUTPUT_CHECKER, is_active=True)
        .distinct()
        .count()
    )
    requests = ReleaseRequest.objects.count()
    return f"{checkers} output checker(s) ready, {requests} release request(s)"
