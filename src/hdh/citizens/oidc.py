"""Sign-in through an OpenID Connect provider such as FranceConnect (ADR 0012).

Authorization code flow with PKCE (S256), ``state`` and ``nonce``; the provider's
discovery document gives its endpoints and JWKS, and the ID token's signature,
issuer, audience, expiry and nonce are checked by Authlib. What is kept, in the
session only, is the "pivot identity" the provider vouches for: names, birth
date and sex. FranceConnect does not give the NIR: the citizen still types it,
and the form checks it against the birth date and sex the provider gave.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from authlib.integrations.django_client import OAuth, OAuthError
from django.conf import settings
from django.http import HttpRequest, HttpResponse

from hdh.core.errors import ValidationFailed

SESSION_KEY = "citizens_oidc_identity"
_GENDERS = {"male": 1, "female": 2}


def configured() -> bool:
    return bool(settings.HDH_OIDC_ISSUER and settings.HDH_OIDC_CLIENT_ID)


def _client() -> Any:
    registry = OAuth()
    issuer = settings.HDH_OIDC_ISSUER.rstrip("/")
    return registry.register(
        name="citizens",
        client_id=settings.HDH_OIDC_CLIENT_ID,
        client_secret=settings.HDH_OIDC_CLIENT_SECRET,
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": settings.HDH_OIDC_SCOPES, "code_challenge_method": "S256"},
    )


def start(request: HttpRequest, redirect_uri: str) -> HttpResponse:
    response: HttpResponse = _client().authorize_redirect(request, redirect_uri)
    return response


def finish(request: HttpRequest) -> dict[str, Any]:
    """Exchange the code, verify the ID token; the pivot identity, or ValidationFailed."""
    try:
        token = _client().authorize_access_token(request)
    except (OAuthError, ValueError, KeyError) as exc:
        raise ValidationFailed(f"sign-in refused: {type(exc).__name__}") from None
    except Exception as exc:  # joserfc and requests raise their own errors
        raise ValidationFailed(f"sign-in refused: {type(exc).__name__}") from None
    claims = token.get("userinfo") or {}
    if claims.get("iss", "").rstrip("/") != settings.HDH_OIDC_ISSUER.rstrip("/"):
        raise ValidationFailed("sign-in refused: unexpected issuer")
    return identity_from(claims)


def identity_from(claims: dict[str, Any]) -> dict[str, Any]:
    try:
        birth = dt.date.fromisoformat(str(claims["birthdate"]))
        sex = _GENDERS[str(claims["gender"])]
        given, family = str(claims["given_name"])[:100], str(claims["family_name"])[:100]
    except (KeyError, ValueError):
        raise ValidationFailed("sign-in refused: the provider gave no usable identity") from None
    return {
        "birth_date": birth.isoformat(),
        "sex": sex,
        "first_name": given.split(" ")[0],
        "last_name": family,
    }
