"""Request-scoped context: a request id that audit events and logs carry."""

from __future__ import annotations

import contextvars
import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

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
    """Refuse a request whose path or query string holds a NUL character.

    No URL of the platform legitimately contains one, and PostgreSQL cannot
    store or compare text with NUL: refusing here turns what would be a server
    error deep in a view into a clear 400 for every route at once.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        raw_query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "%00" in raw_query or "\x00" in raw_query:
            return HttpResponseBadRequest(
                "Caractère nul refusé dans l'adresse.", content_type="text/plain; charset=utf-8"
            )
        return self.get_response(request)
