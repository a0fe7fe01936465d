"""Request-scoped context: a request id that audit events and logs carry."""

from __future__ import annotations

import contextvars
import json
import re
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

from hdh.core import ids

current_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "hdh_request_id", default=None
)

_INCOMING = re.compile(r"^[A-Za-z0-9-]{8,64}$")


class RequestIdMiddleware:
    """Gives every request an id (or keeps a well-formed one from the proxy)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        rid = incoming if _INCOMING.match(incoming) else ids.request_id()
        request.request_id = rid  # type: ignore[attr-defined]
        token = current_request_id.set(rid)
        try:
            response = self.get_response(request)
        finally:
            current_request_id.reset(token)
        response["X-Request-ID"] = rid
        return response


class RejectNulMiddleware:
    """Refuse a request whose path, query string, form or JSON body holds a NUL character.

    No URL or text of the platform legitimately contains one, and PostgreSQL cannot
    store or compare text with NUL: refusing here turns what would be a server
    error deep in a view into a clear 400 for every route at once. Multipart bodies
    are left to the forms (``ProhibitNullCharactersValidator``): their files may hold
    anything, and their upload handlers are the view's to choose.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        raw_query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "%00" in raw_query or "\x00" in raw_query:
            return HttpResponseBadRequest(
                "Caractère nul refusé dans l'adresse.", content_type="text/plain; charset=utf-8"
            )
        if request.content_type == "application/x-www-form-urlencoded" and (
            b"%00" in request.body or b"\x00" in request.body
        ):
            # A form field read outside a form would reach the database as it came.
            return HttpResponseBadRequest(
                "Caractère nul refusé dans le formulaire.", content_type="text/plain; charset=utf-8"
            )
        # JSON can only spell NUL as an escape: the body is parsed (a second time, the
        # route parses it too) only when it holds one.
        if request.content_type == "application/json" and b"\\u0000" in request.body:
            try:
                document = json.loads(request.body)
            except ValueError:
                document = None  # the route's own parser answers a body that is not JSON
            where = _nul_in(document, "body")
            if where is not None:
                return JsonResponse(
                    {"detail": f"Caractère nul refusé dans le corps de la requête ({where})."},
                    status=400,
                )
        return self.get_response(request)


def _nul_in(value: Any, where: str) -> str | None:
    """The location (``body.title``, ``body.items.2``) of the first text holding NUL."""
    if isinstance(value, str):
        return where if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _nul_in(key, where) or _nul_in(item, f"{where}.{key}")
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_in(item, f"{where}.{index}")
            if found is not None:
                return found
    return None
