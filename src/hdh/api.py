"""The platform's REST API (OpenAPI 3 at ``/api/docs``): each domain mounts its router."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI

from hdh.catalog.api import router as catalog_router
from hdh.core.errors import InvalidState, NotAllowed, ValidationFailed

api = NinjaAPI(title="hdh", urls_namespace="api", docs_url="/docs")


@api.exception_handler(ValidationFailed)
def _invalid(request: HttpRequest, exc: ValidationFailed) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc), "problems": exc.problems}, status=422)


@api.exception_handler(NotAllowed)
def _forbidden(request: HttpRequest, exc: NotAllowed) -> HttpResponse:
    return api.create_response(request, {"detail": "forbidden"}, status=403)


@api.exception_handler(InvalidState)
def _conflict(request: HttpRequest, exc: InvalidState) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=409)


api.add_router("catalog/", catalog_router)
api.add_router("access/", "hdh.access.api.router")
api.add_router("lake/", "hdh.lake.api.router")
