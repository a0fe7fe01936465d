"""The permission matrix: every route of the URL configuration × every role × the
project's own objects and another project's (issue 10, item 3).

Routes are enumerated from the URL configuration at test time (Django views by
name, the API by method and path, the admin as one group); a route without a
rule in ``tests/permission_matrix/rules.py`` fails, and so does a rule for a
route that is gone. Each route is requested as every actor; every request runs
in a savepoint that is rolled back, so one actor's success never changes what
the next one sees. A refused request must leave every table as it found it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import override_settings

from hdh.core.permissions import Role
from hdh.synth import snds
from tests.permission_matrix.probe import FORBIDDEN, NOT_FOUND, send
from tests.permission_matrix.routes import all_routes
from tests.permission_matrix.rules import RULES
from tests.permission_matrix.world import ACTORS, STAFF_ROLE, World, build
from tests.preparation.conftest import session_keys, synthetic_snds  # noqa: F401

pytestmark = pytest.mark.django_db

ROUTES = {route.key: route for route in all_routes()}


def _stores(root: Path, keys: Path) -> dict[str, Any]:
    return {
        "HDH_HOME": root / "home",
        "HDH_LAKE": root / "lake",
        "HDH_WORKSPACES": root / "workspaces",
        "HDH_AIRLOCK": root / "airlock",
        "HDH_AIRLOCK_POLICY": "",
        "HDH_IDENTITIES": root / "identities",
        "HDH_AUDIT_ANCHOR": root / "audit-anchor.jsonl",
        "MEDIA_ROOT": root / "media",
        "HDH_KEY_STORE": keys,
        # As the suite's conftest does per test: Argon2 is tested elsewhere.
        "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
        "WHITENOISE_AUTOREFRESH": True,
    }


@pytest.fixture(scope="module")
def world(
    django_db_setup: None,
    django_db_blocker: Any,
    tmp_path_factory: pytest.TempPathFactory,
    session_keys: Path,  # noqa: F811
    synthetic_snds: snds.SndsResult,  # noqa: F811
) -> Iterator[World]:
    root = tmp_path_factory.mktemp("matrix")
    identities = root / "identities" / "snds"
    identities.mkdir(parents=True)
    (identities / "IR_IDENTITE").symlink_to(synthetic_snds.identity / "IR_IDENTITE")
    with django_db_blocker.unblock(), override_settings(**_stores(root, session_keys)):
        _vacuum()
        # One transaction for the module, rolled back at its end: the tests'
        # own transactions nest in it as savepoints.
        outer = transaction.atomic()
        outer.__enter__()
        try:
            built = build(root, synthetic_snds)
            # Fire the deferred foreign-key checks of the build now, once: left pending,
            # PostgreSQL fires them again at each test's teardown (~1.5 s each).
            connection.check_constraints()
            built.values["root"] = root
            yield built
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def _vacuum() -> None:
    """Clear the dead rows the suite's rolled-back tests left on PostgreSQL.

    Each refused write is checked by counting the rows of every table; PostgreSQL
    counts by reading the table, dead rows included, and a server without autovacuum
    (as on the CI machine) keeps every row an earlier test wrote and rolled back:
    the counts then took about 0.4 s each, 6 s per write route.
    """
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM")


@pytest.fixture(autouse=True)
def _world_stores(_isolated_state: None, settings: Any, world: World, session_keys: Path) -> None:  # noqa: F811
    for name, value in _stores(world.values["root"], session_keys).items():
        setattr(settings, name, value)


def test_every_route_has_a_rule_and_every_rule_a_route() -> None:
    missing = sorted(set(ROUTES) - set(RULES))
    stale = sorted(set(RULES) - set(ROUTES))
    assert not missing, f"new route without a permission rule: {', '.join(missing)}"
    assert not stale, f"rule for a route that no longer exists: {', '.join(stale)}"


def _probes(key: str) -> list[tuple[str, int]]:
    rule = RULES.get(key)
    return [(key, index) for index in range(1 + len(rule.extra if rule else ()))]


@pytest.mark.parametrize(("key", "probe"), [p for key in sorted(ROUTES) for p in _probes(key)])
def test_route(key: str, probe: int, world: World) -> None:
    route = ROUTES[key]
    assert key in RULES, f"new route without a permission rule: {key}"
    rule = (RULES[key], *RULES[key].extra)[probe]
    method = route.method or rule.method
    writers = rule.may_write()
    seen = {
        actor: send(
            world,
            route,
            actor,
            method=method,
            body=rule.body,
            check_unchanged=method != "GET" and actor not in writers,
        ).outcome
        for actor in ACTORS
    }
    wrong = {
        actor: (rule.expect[actor], seen[actor])
        for actor in ACTORS
        if seen[actor] != rule.expect[actor]
    }
    assert not wrong, f"{method} {key}: " + "; ".join(
        f"{actor} expected {expected}, got {got}" for actor, (expected, got) in wrong.items()
    )


# One representative refusal per app: the app promises that denials are evidence.
AUDITED_DENIALS = [
    ("access:detail", "foreign"),
    ("GET /api/access/applications/{pk}", "foreign"),
    ("preparation:permit", "researcher"),
    ("workspace:dashboard", "foreign"),
    ("airlock:detail", "foreign"),
    ("catalog:base_edit", "other_producer"),
    ("lake:deposit_report", "other_producer"),
    ("citizens:inbox", "researcher"),
]


@pytest.mark.parametrize(("key", "actor"), AUDITED_DENIALS)
def test_denials_are_audited(key: str, actor: str, world: World) -> None:
    rule = RULES[key]
    assert rule.expect[actor] in (FORBIDDEN, NOT_FOUND), "pick a refused actor"
    seen = send(
        world, ROUTES[key], actor, method=rule.method, body=rule.body, check_unchanged=False
    )
    assert seen.outcome == rule.expect[actor]
    assert seen.denials >= 1, f"{key}: the refusal of {actor} is not in the audit log"


def test_every_platform_role_is_an_actor() -> None:
    assert {Role.RESEARCHER, *STAFF_ROLE.values()} == set(Role)
