"""The body of every refusal the REST API gives, declared route by route in the OpenAPI spec.

Refusals come from one place each: 401 from the authentication (no session, or an
invalid token), 403 from ``NotAllowed``, 404 from an unknown object, 409 from
``InvalidState``, 422 from ``ValidationFailed`` (with its ``problems``) or from the
input's own schema (then ``detail`` lists each invalid location). A route declares
the ones it can give, so a client, and the API fuzzer, know every status it may
receive; 400, which any route may give, is declared once for all (``hdh.api``).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Schema
from ninja.security import HttpBearer, django_auth


class ErrorOut(Schema):
    detail: str | list[dict[str, Any]]
    problems: list[str] | None = None


def omittable(**constraints: Any) -> Any:
    """A field of a partial update that may be left out (then unchanged), but never
    given as null: for a text or a list, which have no null in the database."""
    return Field(None, **constraints)


def refusals(*codes: int) -> dict[int, type[ErrorOut]]:
    """``response={200: Out, **refusals(403, 404)}``: the error statuses a route may answer."""
    return dict.fromkeys(codes, ErrorOut)


class BearerToken(HttpBearer):
    """A personal API token, ``Authorization: Bearer hdh_…``.

    The accounts' ``BearerTokenMiddleware`` checks the token before any route runs
    (and answers 401 itself when it is not valid); this scheme accepts the user it
    set, so the spec tells clients that every signed-in route takes a token as well
    as a session.
    """

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = request.user
        return user if user.is_authenticated else None


# A session (with its CSRF token) or a personal token.
SIGNED_IN = [django_auth, BearerToken()]


def links(
    status: int | tuple[int, ...], parameter: str, expression: str, *operation_ids: str
) -> dict[str, Any]:
    """``openapi_extra``: OpenAPI links from a route's answer (one status or several) to
    the routes that take one of its values (``"$response.body#/id"``) as their
    ``parameter``; clients and the fuzzer's stateful run follow them."""
    found = {op: {"operationId": op, "parameters": {parameter: expression}} for op in operation_ids}
    statuses = status if isinstance(status, tuple) else (status,)
    return {"responses": {code: {"links": found} for code in statuses}}
