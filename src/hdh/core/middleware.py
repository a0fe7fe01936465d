"""Request-scoped context: a request id that audit events and logs carry."""

from __future__ import annotations

import contextvars
import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

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
