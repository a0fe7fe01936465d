"""One request of the matrix, and what it must not change when it is refused."""

from __future__ import annotations

import json
from copy import deepcopy
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.http import HttpResponse
from django.urls import reverse

from hdh.audit.models import AuditEvent
from tests.permission_matrix.routes import Route
from tests.permission_matrix.world import World

ALLOWED = "allowed"
LOGIN = "login"
FORBIDDEN = "403"
NOT_FOUND = "404"
NOT_ALLOWED = "405"
OUTCOMES = (ALLOWED, LOGIN, FORBIDDEN, NOT_FOUND, NOT_ALLOWED)

# Past the permission checks, a minimal body may still be refused for what it
# says or for the object's state: the request was let in all the same.
_LET_IN = {400, 409, 422}


def outcome(response: HttpResponse) -> str:
    status = response.status_code
    if status in (301, 302, 303, 307, 308):
        target = response["Location"].split("?")[0]
        if target in (reverse("accounts:login"), reverse("admin:login")):
            return LOGIN
        if target in (reverse("accounts:mfa_verify"), reverse("accounts:mfa_enrol")):
            return f"second factor ({target})"
        return ALLOWED
    if status == 401:  # the API's answer to anonymous callers
        return LOGIN
    if 200 <= status < 300 or status in _LET_IN:
        return ALLOWED
    if status in (403, 404, 405):
        return str(status)
    return f"unexpected {status}"


def fill(route: Route, world: World) -> dict[str, Any]:
    """The route's URL parameters, filled from the world by parameter name."""
    values: dict[str, Any] = {}
    missing = []
    for name in route.parameters:
        value = _value_for(route, name, world)
        if value is None:
            missing.append(name)
        values[name] = value
    assert not missing, f"{route.key}: cannot fill URL parameter(s) {missing}"
    return values


# ``pk`` names a different object in each app.
def _pk(route: Route, world: World) -> Any:
    name = route.name
    if name.startswith("api:") or name.startswith("access:"):
        return world.application.pk
    if name == "accounts:revoke_token":
        return world.token.pk
    if name.startswith("airlock:"):
        return world.release.pk
    if name == "workspace:output":
        return world.output.pk
    by_route = {
        "preparation:permit": world.permit.pk,
        "preparation:create_plan": world.permit.pk,
        "preparation:request_linkage": world.permit.pk,
        "preparation:plan": world.plan.pk,
        "preparation:approve": world.plan.pk,
        "preparation:start_run": world.plan.pk,
        "preparation:open_workspace": world.plan.pk,
        "preparation:run": world.run.pk,
        "preparation:progress": world.run.pk,
        "preparation:cancel": world.run.pk,
        "preparation:dataset": world.dataset.pk,
        "preparation:linkage": world.linkage.pk,
        "preparation:linkage_status": world.linkage.pk,
    }
    return by_route.get(name)


def _value_for(route: Route, name: str, world: World) -> Any:
    if name == "pk":
        return _pk(route, world)
    if name == "number" and route.name.startswith("workspace:"):
        return world.job.number
    if name == "reference":
        if route.name.startswith("access:"):
            return world.application.project.reference
        if route.name.startswith("citizens:"):
            return world.rights.reference
    return world.values.get(name)


def fingerprint(world: World) -> tuple[Any, ...]:
    """Row counts of every hdh table, the audit trail less denials, and the state
    of the world's objects: what a refused request must leave as it found it.

    One query, since it runs twice for every refused write of the matrix.
    """
    quote = connection.ops.quote_name
    columns = [
        f"(SELECT COUNT(*) FROM {quote(model._meta.db_table)})"
        for model in apps.get_models()
        if model.__module__.startswith("hdh.") and model._meta.managed and model is not AuditEvent
    ]
    params: list[Any] = ["permission.denied"]
    columns.append(
        f"(SELECT COUNT(*) FROM {quote(AuditEvent._meta.db_table)} WHERE {quote('action')} <> %s)"
    )
    for obj, fields in _watched(world):
        table = quote(obj._meta.db_table)
        for name in fields:
            column = quote(obj._meta.get_field(name).column)
            columns.append(f"(SELECT {column} FROM {table} WHERE {quote('id')} = %s)")
            params.append(obj.pk)
    with connection.cursor() as cursor:
        # Names come from the models, values are parameters.
        cursor.execute(f"SELECT {', '.join(columns)}", params)
        return tuple(cursor.fetchone())


def _watched(world: World) -> list[tuple[Any, tuple[str, ...]]]:
    return [
        (world.application, ("state", "updated_at")),
        (world.release, ("state", "updated_at")),
        (world.plan, ("status",)),
        (world.run, ("status",)),
        (world.linkage, ("status",)),
        (world.workspace, ("state",)),
        (world.job, ("status",)),
        (world.token, ("revoked_at",)),
        (world.rights, ("status",)),
        (world.release_file, ("kind",)),
    ]


@dataclass(frozen=True)
class Seen:
    outcome: str
    denials: int  # permission.denied events the request wrote to the audit log


UPLOAD = "@upload"  # a body value standing for a small CSV file, sent as multipart


def _body(body: dict[str, Any] | None, world: World) -> dict[str, Any]:
    filled: dict[str, Any] = {}
    for name, value in (body or {}).items():
        if value == UPLOAD:
            value = SimpleUploadedFile("table.csv", b"a,b\n1,2\n", content_type="text/csv")
        elif isinstance(value, str) and value.startswith("@"):
            value = world.values[value[1:]]
        filled[name] = value
    return filled


def send(
    world: World,
    route: Route,
    actor: str,
    *,
    method: str,
    body: dict[str, Any] | None,
    check_unchanged: bool,
) -> Seen:
    """Request ``route`` as ``actor``; nothing it writes outlives the request."""
    client = world.clients[actor]
    cookies = deepcopy(client.cookies)
    path = route.path(fill(route, world))
    data = _body(body, world)
    multipart = UPLOAD in (body or {}).values()
    try:
        with transaction.atomic():
            # Every request is rolled back: each starts from the module's state.
            before = None
            if check_unchanged:
                before = world.values.get("baseline") or fingerprint(world)
                world.values["baseline"] = before
            denials = AuditEvent.objects.filter(action="permission.denied").count()
            if method == "GET":
                response = client.get(path)
            elif route.method and not multipart:  # the API speaks JSON
                response = client.generic(
                    method, path, json.dumps(data), content_type="application/json"
                )
            else:
                response = client.post(path, data)
            found = outcome(response)
            if before is not None:
                after = fingerprint(world)
                assert after == before, (
                    f"{route.key}: {method} by {actor} ({found}) changed data it may not change"
                )
            denials = AuditEvent.objects.filter(action="permission.denied").count() - denials
            transaction.set_rollback(True)
    finally:
        client.cookies = cookies
    return Seen(found, denials)
