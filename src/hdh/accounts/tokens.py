"""Personal API tokens: a producer's script writes through the REST API without a browser.

A token is ``hdh_`` followed by 43 URL-safe characters (256 random bits). Only
its SHA-256 digest is stored, so a copy of the database gives no usable token;
the token itself is shown once, when it is created. A token acts as its owner,
with the owner's permissions, on the API only (``/api/``), until it expires or
is revoked. Creating and revoking a token, and every refused use, are audited;
the token never reaches a log or an audit event (only its first characters).

A request that presents ``Authorization: Bearer …`` is authenticated by the token
alone: a valid token replaces the session's user and, carrying no ambient
credential, needs no CSRF token; an invalid one is refused with 401 even if a
session cookie came along.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from hdh.accounts.models import ApiToken, User
from hdh.accounts.services.users import require_manager
from hdh.audit import services as audit
from hdh.core import clock
from hdh.core.errors import ValidationFailed
from hdh.core.governance import service_writes

PREFIX = "hdh_"
# "hdh_" and the URL-safe base64 of 32 random bytes.
_SHAPE = re.compile(r"^hdh_[A-Za-z0-9_-]{43}\Z")
DEFAULT_DAYS = 90
MAX_DAYS = 365
MAX_ACTIVE = 20
# last_used_at is written at most this often per token, not on every request.
USE_GRANULARITY = dt.timedelta(minutes=1)
API_PREFIX = "/api/"


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _refuse(problem: str) -> ValidationFailed:
    return ValidationFailed(problem, [problem])


def _clean_label(label: str) -> str:
    label = " ".join(str(label).split())
    if not label or len(label) > 100 or any(ord(c) < 32 for c in label):
        raise _refuse(_("Le libellé est obligatoire (100 caractères au plus)."))
    return label


def create_token(
    *, by: User | None, owner: User, label: str, days: int = DEFAULT_DAYS
) -> tuple[ApiToken, str]:
    """A new token for ``owner``; returns the row and the token, shown once.

    ``by`` is the owner (from the account page), an accounts manager, or None for
    the operator at the command line.
    """
    if by is not None and by.pk != owner.pk:
        require_manager(by)
    label = _clean_label(label)
    if not 1 <= days <= MAX_DAYS:
        raise _refuse(_("La durée va de 1 à %(max)s jours.") % {"max": MAX_DAYS})
    if not owner.is_active:
        raise _refuse(_("Ce compte est désactivé."))
    raw = PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    with transaction.atomic():
        active = ApiToken.objects.filter(
            owner=owner, revoked_at__isnull=True, expires_at__gt=now
        ).count()
        if active >= MAX_ACTIVE:
            raise _refuse(_("Au plus %(max)s jetons actifs par compte.") % {"max": MAX_ACTIVE})
        with service_writes():
            token = ApiToken.objects.create(
                owner=owner,
                label=label,
                digest=digest(raw),
                prefix=raw[:12],
                created_at=now,
                expires_at=now + dt.timedelta(days=days),
            )
        audit.record(
            action="accounts.token.created",
            by=by,
            target=token,
            details={"owner": owner.pk, "prefix": token.prefix, "days": days},
        )
    return token, raw


def revoke_token(*, by: User | None, token: ApiToken) -> ApiToken:
    """Revoke ``token`` (its owner, an accounts manager or the operator)."""
    if by is not None and by.pk != token.owner_id:
        require_manager(by)
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is None:
            with service_writes():
                token.revoked_at = clock.now()
                token.save(update_fields=["revoked_at"])
            audit.record(
                action="accounts.token.revoked",
                by=by,
                target=token,
                details={"owner": token.owner_id, "prefix": token.prefix},
            )
    return token


def authenticate(raw: str) -> User | None:
    """The owner of the token ``raw`` if it may be used now; otherwise None, audited."""
    now = clock.now()
    token = (
        ApiToken.objects.select_related("owner").filter(digest=digest(raw)).first()
        if _SHAPE.match(raw)
        else None
    )
    reason = ""
    if token is None:
        reason = "unknown" if _SHAPE.match(raw) else "malformed"
    elif token.revoked_at is not None:
        reason = "revoked"
    elif token.expires_at <= now:
        reason = "expired"
    elif not token.owner.is_active or token.owner.is_locked():
        reason = "owner inactive"
    if reason:
        with transaction.atomic():
            audit.record(
                action="accounts.token.denied",
                target=token,
                target_type="" if token else "accounts.apitoken",
                outcome="denied",
                details={"reason": reason, **({"prefix": token.prefix} if token else {})},
            )
        return None
    assert token is not None
    if token.last_used_at is None or now - token.last_used_at >= USE_GRANULARITY:
        with service_writes():
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.owner


def bearer(request: HttpRequest) -> str | None:
    """The token of an ``Authorization: Bearer`` header, if there is one."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip()[:200]


class BearerTokenMiddleware:
    """Authenticate API requests that carry a personal token (after the session
    middlewares, so a token-only request is not asked for a session's second factor)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(API_PREFIX):
            raw = bearer(request)
            if raw is not None:
                user = authenticate(raw)
                if user is None:
                    response = JsonResponse({"detail": "invalid token"}, status=401)
                    response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
                    return response
                request.user = user
                # The header is no ambient credential a third-party page could
                # make the browser send: CSRF protection has nothing to add.
                request._dont_enforce_csrf_checks = True  # type: ignore[attr-defined]
        return self.get_response(request)


# --- the account page --------------------------------------------------------------


class TokenForm(forms.Form):
    label = forms.CharField(
        label=gettext_lazy("Libellé"),
        max_length=100,
        help_text=gettext_lazy("Par exemple : « script de mise à jour du dictionnaire »."),
    )
    days = forms.IntegerField(
        label=gettext_lazy("Durée de validité (jours)"),
        min_value=1,
        max_value=MAX_DAYS,
        initial=DEFAULT_DAYS,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def tokens_view(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = TokenForm(request.POST or None)
    created: str | None = None
    if request.method == "POST" and form.is_valid():
        try:
            values = form.cleaned_data
            _token, created = create_token(
                by=user, owner=user, label=values["label"], days=values["days"]
            )
            form = TokenForm()
        except ValidationFailed as exc:
            for problem in exc.problems:
                form.add_error(None, problem)
    context: dict[str, Any] = {
        "form": form,
        "created": created,
        "tokens": ApiToken.objects.filter(owner=user),
        "now": clock.now(),
    }
    return render(request, "accounts/tokens.html", context)


@login_required
@require_POST
def revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    # Someone else's token is "not found", not "forbidden": its existence is not told.
    token = get_object_or_404(ApiToken, pk=pk, owner=user)
    revoke_token(by=user, token=token)
    messages.success(request, _("Jeton « %(label)s » révoqué.") % {"label": token.label})
    return HttpResponseRedirect(reverse("accounts:tokens"))
