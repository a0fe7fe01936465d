"""Sign-in, second factor, sign-out and "Mon compte". Thin: parse, call a service, render."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from hdh.accounts import services, session, totp
from hdh.accounts.authorization import user_roles
from hdh.accounts.forms import CodeForm, LoginForm
from hdh.accounts.models import User
from hdh.core.permissions import ROLES


def _ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _requested_next(request: HttpRequest) -> str:
    value = request.POST.get("next") or request.GET.get("next") or ""
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return ""


def _next_or_home(request: HttpRequest) -> str:
    return _requested_next(request) or resolve_url(settings.LOGIN_REDIRECT_URL)


def _with_next(name: str, next_url: str) -> str:
    url = reverse(name)
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def _lockout_text() -> str:
    minutes = settings.HDH_LOCKOUT_MINUTES
    return ngettext(
        "Après plusieurs échecs, le compte est verrouillé pendant %(minutes)d minute.",
        "Après plusieurs échecs, le compte est verrouillé pendant %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


def _notice(code: str | None) -> str:
    if code == "session_expired":
        return _("Votre session a expiré. Reconnectez-vous pour continuer.")
    if code == "locked":
        return _("Trop de codes incorrects : votre compte est temporairement verrouillé.") + (
            " " + _lockout_text()
        )
    return ""


def _locked_out(request: HttpRequest) -> HttpResponseRedirect:
    request.session.flush()
    request.session[session.NOTICE] = "locked"
    return HttpResponseRedirect(reverse("accounts:login"))


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = _requested_next(request)
    form = LoginForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        attempt = services.attempt_login(
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
            ip=_ip(request),
        )
        if attempt.user is not None:
            # A fresh session for the signed-in person (ASVS 7.2.4).
            request.session.flush()
            auth_login(request, attempt.user)
            if attempt.second_factor_required:
                step = (
                    "accounts:mfa_verify"
                    if session.has_confirmed_device(attempt.user)
                    else "accounts:mfa_enrol"
                )
                return HttpResponseRedirect(_with_next(step, next_url))
            return HttpResponseRedirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))
        # One message whatever went wrong, so it never tells whether the
        # account exists or is locked (ASVS 6.3.8).
        form.add_error(None, _("Identifiant ou mot de passe incorrect.") + " " + _lockout_text())
    notice = _notice(request.session.pop(session.NOTICE, None))
    return render(
        request, "accounts/login.html", {"form": form, "next": next_url, "notice": notice}
    )


@sensitive_post_parameters("code")
@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def mfa_verify(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    next_url = _requested_next(request)
    if session.second_factor_passed(request.session):
        return HttpResponseRedirect(_next_or_home(request))
    if services.confirmed_device(user) is None:
        return HttpResponseRedirect(_with_next("accounts:mfa_enrol", next_url))
    if user.is_locked():
        return _locked_out(request)
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if services.verify_totp(user=user, code=form.cleaned_data["code"], ip=_ip(request)):
            session.mark_second_factor_passed(request.session)
            return HttpResponseRedirect(_next_or_home(request))
        if user.is_locked():
            return _locked_out(request)
        form.add_error("code", _("Code incorrect ou déjà utilisé. Attendez le code suivant."))
    return render(request, "accounts/mfa_verify.html", {"form": form, "next": next_url})


@sensitive_post_parameters("code")
@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def mfa_enrol(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    next_url = _requested_next(request)
    if services.confirmed_device(user) is not None:
        if session.second_factor_passed(request.session):
            return HttpResponseRedirect(reverse("accounts:profile"))
        return HttpResponseRedirect(_with_next("accounts:mfa_verify", next_url))
    if user.is_locked():
        return _locked_out(request)
    device = services.begin_totp_enrolment(user=user)
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if services.confirm_totp_enrolment(user=user, code=form.cleaned_data["code"]):
            session.mark_second_factor_passed(request.session)
            messages.success(request, _("La double authentification est activée."))
            return HttpResponseRedirect(_next_or_home(request))
        if user.is_locked():
            return _locked_out(request)
        form.add_error("code", _("Code incorrect. Vérifiez l'heure de votre téléphone."))
    uri = totp.provisioning_uri(
        device.secret, account=user.username, issuer=settings.HDH_TOTP_ISSUER or "hdh"
    )
    qr_title = _("QR code à scanner avec votre application d'authentification")
    context = {
        "form": form,
        "next": next_url,
        # segno writes only path data and the title, which it escapes: safe to inline.
        "qr_svg": mark_safe(totp.qr_svg(uri, title=qr_title)),  # noqa: S308  # nosec B308 B703
        "secret": totp.grouped(device.secret),
    }
    return render(request, "accounts/mfa_enrol.html", context)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    # The sign-out is audited by the ``user_logged_out`` receiver (hdh.accounts.signals).
    auth_logout(request)
    messages.info(request, _("Vous êtes déconnecté."))
    return HttpResponseRedirect(resolve_url(settings.LOGOUT_REDIRECT_URL))


@never_cache
@login_required
@require_http_methods(["GET", "HEAD"])
def profile(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    roles = sorted(str(ROLES[role].label) for role in user_roles(user))
    context = {
        "profile_user": user,
        "roles": roles,
        "device": services.confirmed_device(user),
        "second_factor_passed": session.second_factor_passed(request.session),
    }
    return render(request, "accounts/profile.html", context)
