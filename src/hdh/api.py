"""The platform's REST API (OpenAPI 3 at ``/api/docs``): each domain mounts its router."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.openapi.schema import OpenAPISchema

from hdh.catalog.api import router as catalog_router
from hdh.core.api import ErrorOut
from hdh.core.errors import InvalidState, NotAllowed, ValidationFailed

# Any route may answer 400: to a body that is not JSON (in JSON), and to a URL holding a
# NUL character, which ``RejectNulMiddleware`` refuses before any route runs (in text).
BAD_REQUEST: dict[str, Any] = {
    "description": "Bad Request",
    "content": {
        "application/json": {"schema": ErrorOut.model_json_schema()},
        "text/plain": {"schema": {"type": "string"}},
    },
}


class HdhApi(NinjaAPI):
    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for operations in schema["paths"].values():
            for operation in operations.values():
                operation["responses"].setdefault(400, BAD_REQUEST)
        return schema


api = HdhApi(title="hdh", urls_namespace="api", docs_url="/docs")


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
