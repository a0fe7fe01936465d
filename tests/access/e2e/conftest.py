"""A live hdh loaded with the demo data (catalog and demo accounts), and a real browser."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from hdh.accounts.demo import _PEOPLE, DEMO_EMAIL_DOMAIN, demo_totp_secret
from tests.e2e import live
from tests.e2e.conftest import (  # noqa: F401  (fixtures and hook shared with tests/e2e)
    browser,
    e2e_database_url,
    page,
    pytest_runtest_setup,
)

PREPARE = (
    "from hdh.catalog import demo; demo.load(); "
    "from hdh.accounts.demo import create_demo_accounts; create_demo_accounts()"
)


@dataclass
class DemoServer:
    url: str
    env: dict[str, str]
    accounts: dict[str, live.Account]


@pytest.fixture(scope="session")
def live_demo(
    tmp_path_factory: pytest.TempPathFactory,
    e2e_database_url: str,  # noqa: F811  (the shared fixture, requested by name)
) -> Iterator[DemoServer]:
    home = tmp_path_factory.mktemp("e2e-guichet")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("HDH_", "DJANGO_", "DATABASE_URL"))
    }
    env.update(HDH_HOME=str(home), DATABASE_URL=e2e_database_url)
    accounts = {
        person.username: live.Account(
            username=person.username,
            email=f"{person.username}@{DEMO_EMAIL_DOMAIN}",
            password=person.password,
            totp_secret=demo_totp_secret(person.username),
        )
        for person in _PEOPLE
    }
    try:
        # Only what this journey needs (the catalog and the demo accounts), so that
        # another app's demo data cannot break it.
        live.run_hdh(["migrate", "--noinput"], env)
        live.run_hdh(["shell", "-c", PREPARE], env)
        with live.serving(env, home / "server.log") as url:
            yield DemoServer(url=url, env=env, accounts=accounts)
    except live.ServerError as exc:
        pytest.fail(str(exc), pytrace=False)
