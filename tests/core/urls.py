"""The project's URLs plus views that fail on purpose, to exercise the error pages."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.urls import path

from hdh.urls import urlpatterns as project_urlpatterns


def forbidden(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied("internal reason that must not be shown")


def bad_request(request: HttpRequest) -> HttpResponse:
    raise SuspiciousOperation("internal reason that must not be shown")


def crash(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("internal reason that must not be shown")


urlpatterns = [
    *project_urlpatterns,
    path("test-errors/403", forbidden),
    path("test-errors/400", bad_request),
    path("test-errors/500", crash),
]
