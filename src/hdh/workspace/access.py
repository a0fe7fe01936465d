"""The second factor, required of every person who enters a workspace.

The accounts middleware already sends anyone whose platform role sees
non-public data (researchers included) to the second factor. A project
member may hold no platform role at all, so the workspace pages check the
session themselves: views call :func:`second_factor_redirect` first and
return its response when there is one.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse

from hdh.accounts import session


def second_factor_passed(request: HttpRequest) -> bool:
    return bool(request.user.is_authenticated and session.second_factor_passed(request.session))


def second_factor_redirect(request: HttpRequest) -> HttpResponseRedirect | None:
    """Where to send a signed-in person who has not passed the second factor (else None).

    Anonymous people are left to the login redirect of the permission check.
    """
    if not request.user.is_authenticated or session.second_factor_passed(request.session):
        return None
    name = (
        "accounts:mfa_verify"
        if session.has_confirmed_device(request.user)
        else "accounts:mfa_enrol"
    )
    url = reverse(name)
    if request.method == "GET":
        url += "?" + urlencode({"next": request.get_full_path()})
    return HttpResponseRedirect(url)
