"""A minimal but real OpenID Connect provider for the tests, served from a thread.

It serves discovery, JWKS, authorize, token and userinfo over HTTP, checks the
client's credentials, redirect URI and PKCE verifier (S256), and signs RS256 ID
tokens with a key generated at start. ``tamper`` makes it misbehave the way a
hostile or broken provider would, to prove the client refuses.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode
from wsgiref.simple_server import WSGIRequestHandler, make_server

from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID = "hdh-test-client"
CLIENT_SECRET = secrets.token_urlsafe(24)
PERSON = {
    "sub": "fc-person-1",
    "given_name": "Jeanne Marie",
    "family_name": "Martin",
    "birthdate": "1987-02-28",
    "gender": "female",
    "birthplace": "75056",
}


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


@dataclass
class Provider:
    issuer: str = ""
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, private=True))
    other_key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, private=True))
    person: dict[str, str] = field(default_factory=lambda: dict(PERSON))
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    tamper: str = ""  # "", "signature", "nonce", "audience", "expired", "issuer"
    pkce_checked: int = 0

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path = environ["PATH_INFO"]
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        if path == "/.well-known/openid-configuration":
            return self._json(start_response, self.discovery())
        if path == "/jwks":
            public = self.key.as_dict(private=False)
            public.update(kid="k1", use="sig", alg="RS256")
            return self._json(start_response, {"keys": [public]})
        if path == "/authorize":
            return self._authorize(query, start_response)
        if path == "/token" and environ["REQUEST_METHOD"] == "POST":
            size = int(environ.get("CONTENT_LENGTH") or 0)
            form = {k: v[0] for k, v in parse_qs(environ["wsgi.input"].read(size).decode()).items()}
            return self._token(environ, form, start_response)
        if path == "/userinfo":
            return self._json(start_response, self.person)
        return self._json(start_response, {"error": "not_found"}, "404 Not Found")

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        }

    def _json(
        self, start_response: Callable[..., Any], body: Any, status: str = "200 OK"
    ) -> list[bytes]:
        data = json.dumps(body).encode()
        start_response(status, [("Content-Type", "application/json")])
        return [data]

    def _authorize(self, query: dict[str, str], start_response: Callable[..., Any]) -> list[bytes]:
        required = ("response_type", "client_id", "redirect_uri", "state", "nonce")
        if (
            any(not query.get(name) for name in required)
            or query["client_id"] != CLIENT_ID
            or query["response_type"] != "code"
            or query.get("code_challenge_method") != "S256"
            or not query.get("code_challenge")
            or "openid" not in query.get("scope", "").split()
        ):
            return self._json(start_response, {"error": "invalid_request"}, "400 Bad Request")
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "nonce": query["nonce"],
            "challenge": query["code_challenge"],
            "redirect_uri": query["redirect_uri"],
        }
        target = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"
        start_response("302 Found", [("Location", target)])
        return [b""]

    def _token(
        self, environ: dict[str, Any], form: dict[str, str], start_response: Callable[..., Any]
    ) -> list[bytes]:
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if environ.get("HTTP_AUTHORIZATION") != f"Basic {expected}":
            return self._json(start_response, {"error": "invalid_client"}, "401 Unauthorized")
        grant = self.codes.pop(form.get("code", ""), None)
        if grant is None or form.get("redirect_uri") != grant["redirect_uri"]:
            return self._json(start_response, {"error": "invalid_grant"}, "400 Bad Request")
        verifier = form.get("code_verifier", "")
        digest = hashlib.sha256(verifier.encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant["challenge"]:
            return self._json(start_response, {"error": "invalid_grant"}, "400 Bad Request")
        self.pkce_checked += 1
        now = int(time.time())
        claims = {
            "iss": "https://evil.example" if self.tamper == "issuer" else self.issuer,
            "aud": "someone-else" if self.tamper == "audience" else CLIENT_ID,
            "iat": now,
            # Beyond the client's 120-second clock leeway (Authlib's default).
            "exp": now - 3600 if self.tamper == "expired" else now + 300,
            "nonce": "replayed" if self.tamper == "nonce" else grant["nonce"],
            **self.person,
        }
        signer = self.other_key if self.tamper == "signature" else self.key
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, signer)
        return self._json(
            start_response,
            {
                "access_token": secrets.token_urlsafe(16),
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": id_token,
            },
        )


@contextmanager
def running() -> Iterator[Provider]:
    provider = Provider()
    server = make_server("127.0.0.1", 0, provider, handler_class=_Quiet)
    provider.issuer = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
