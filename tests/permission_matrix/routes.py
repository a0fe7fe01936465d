"""Every route the URL configuration serves, found at test time.

Django routes are keyed by their namespaced name (``access:detail``); the
django-ninja API's routes by method and path (``POST /api/access/applications/{pk}/submit``),
one per HTTP method; the Django admin's routes are one group (``admin``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

from hdh.api import api

ADMIN = "admin"
_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class Route:
    key: str  # what the rule table is keyed by
    pattern: str  # the Django pattern, e.g. "projets/<int:pk>/"
    name: str  # the namespaced URL name, e.g. "access:detail"
    method: str = ""  # API routes only: the operation's HTTP method
    defaults: tuple[tuple[str, object], ...] = ()

    @property
    def parameters(self) -> list[str]:
        return [match["name"] for match in _PARAM.finditer(self.pattern)]

    def path(self, values: dict[str, object]) -> str:
        return "/" + _PARAM.sub(lambda m: str(values[m["name"]]), self.pattern)


def _api_methods() -> dict[str, list[str]]:
    """URL name of each ninja operation → its HTTP methods."""
    methods: dict[str, list[str]] = {}
    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                name = getattr(operation, "url_name", "") or api.get_operation_url_name(
                    operation, router=router
                )
                # Two operations with one URL name would make the matrix ambiguous.
                assert name not in methods, f"two API operations named {name}"
                methods[name] = list(operation.methods)
    return methods


def _walk(resolver: URLResolver, prefix: str, namespace: str) -> Iterator[tuple[str, str, object]]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = namespace + (f"{entry.namespace}:" if entry.namespace else "")
            yield from _walk(entry, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), namespace + (entry.name or ""), entry


def all_routes() -> list[Route]:
    api_methods = _api_methods()
    found: dict[str, Route] = {}
    for pattern, name, entry in _walk(get_resolver(), "", ""):
        assert isinstance(entry, URLPattern)
        if pattern.startswith("admin/"):
            found.setdefault(ADMIN, Route(ADMIN, "admin/", "admin:index"))
            continue
        defaults = tuple(sorted(entry.default_args.items()))
        if name.startswith("api:") and name[4:] in api_methods:
            for method in api_methods[name[4:]]:
                shown = _PARAM.sub(lambda m: "{" + m["name"] + "}", pattern)
                key = f"{method} /{shown}"
                found[key] = Route(key, pattern, name, method, defaults)
            continue
        if not name:
            raise AssertionError(f"a route without a name cannot have a rule: {pattern}")
        found[name] = Route(name, pattern, name, "", defaults)
    return sorted(found.values(), key=lambda route: route.key)
