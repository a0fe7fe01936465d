"""Session limits and the second factor, enforced on every request.

Both run after Django's authentication middleware and before any view, the
Django admin included.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse

from hdh.accounts import services, session

# Paths a signed-in person may reach before passing the second factor.
ALWAYS_OPEN_PREFIXES = ("/static/", "/healthz", "/i18n/")
API_PREFIX = "/api/"


def _login_redirect(request: HttpRequest) -> HttpResponseRedirect:
    url = reverse("accounts:login")
    if request.method == "GET":
        url += "?" + urlencode({"next": request.get_full_path()})
    return HttpResponseRedirect(url)


class SessionExpiryMiddleware:
    """Ends a signed-in session after inactivity or after its maximum life (ASVS 7.3)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            reason = session.expiry_reason(request.session)
            if reason is not None:
                services.record_session_expired(user=user, reason=reason)
                # Not django.contrib.auth.logout(): that would also record a
                # deliberate sign-out.
                request.session.flush()
                request.user = AnonymousUser()
                request.session[session.NOTICE] = "session_expired"
                if request.path.startswith(API_PREFIX):
                    return JsonResponse({"detail": "session expired"}, status=401)
                if request.path != reverse("accounts:login"):
                    return _login_redirect(request)
                return self.get_response(request)
            session.touch(request.session)
        return self.get_response(request)


class SecondFactorMiddleware:
    """Sends a signed-in person who must use a second factor to enrol or verify first."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._open_paths: frozenset[str] | None = None

    def open_paths(self) -> frozenset[str]:
        if self._open_paths is None:
            self._open_paths = frozenset(
                reverse(name)
                for name in (
                    "accounts:login",
                    "accounts:logout",
                    "accounts:mfa_verify",
                    "accounts:mfa_enrol",
                )
            )
        return self._open_paths

    def _is_open(self, path: str) -> bool:
        static = "/" + settings.STATIC_URL.lstrip("/") if settings.STATIC_URL else None
        if static and path.startswith(static):
            return True
        return path in self.open_paths() or path.startswith(ALWAYS_OPEN_PREFIXES)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not session.second_factor_passed(request.session)
            and not self._is_open(request.path)
            and session.needs_second_factor(user)
        ):
            if request.path.startswith(API_PREFIX):
                return JsonResponse({"detail": "second factor required"}, status=401)
            name = (
                "accounts:mfa_verify"
                if session.has_confirmed_device(user)
                else "accounts:mfa_enrol"
            )
            url = reverse(name)
            if request.method == "GET":
                url += "?" + urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(url)
        return self.get_response(request)
