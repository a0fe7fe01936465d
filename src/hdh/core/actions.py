"""The shape every action view shares: call a service, show its refusal on the object's page.

A service raises :class:`~hdh.core.errors.NotAllowed` (403),
:class:`~hdh.core.errors.InvalidState` (409) or
:class:`~hdh.core.errors.ValidationFailed` (422); the app says how its object's
page is drawn with the error, once, and decorates its action views.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from hdh.core.errors import InvalidState, NotAllowed, ValidationFailed

View = Callable[..., HttpResponseBase]
# (request, object's pk, error message, problems, HTTP status) -> the object's page.
ErrorPage = Callable[[HttpRequest, int, str, list[str], int], HttpResponseBase]


def acting(error_page: ErrorPage) -> Callable[[View], View]:
    """A decorator for views taking ``(request, pk, ...)`` that call services."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, pk: int, *args: Any, **kwargs: Any) -> HttpResponseBase:
            try:
                return view(request, pk, *args, **kwargs)
            except NotAllowed as exc:
                raise PermissionDenied from exc
            except (InvalidState, ValidationFailed) as exc:
                status = 409 if isinstance(exc, InvalidState) else 422
                problems = list(getattr(exc, "problems", []))
                return error_page(request, pk, str(exc), problems, status)

        return wrapper

    return decorator


def form_problems(form: Any) -> list[str]:
    """A bound form's errors as "label : message" lines."""
    return [
        f"{form.fields[name].label if name in form.fields else name} : {' '.join(errors)}"
        for name, errors in form.errors.items()
    ]
