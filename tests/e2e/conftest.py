"""Fixtures for end-to-end tests: a real hdh server and a real browser.

The browser is Debian's Chromium (``/usr/bin/chromium``) driven by Playwright;
nothing is downloaded. Tests that use it are skipped, with the reason, only when
that binary is missing.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.e2e import live

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_runtest_setup(item: pytest.Item) -> None:
    # Runs before any fixture, so no server is started for a test that cannot run.
    if "browser" in getattr(item, "fixturenames", ()) and not CHROMIUM.exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")


@pytest.fixture(scope="session")
def e2e_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database for the server alone: PostgreSQL when this test run uses it, else SQLite."""
    run_url = os.environ.get("DATABASE_URL", "")
    if live.is_postgres(run_url):
        with live.fresh_postgres_database(run_url) as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('e2e-db') / 'hdh.sqlite3'}"


@pytest.fixture(scope="session")
def live_hdh(
    tmp_path_factory: pytest.TempPathFactory, e2e_database_url: str
) -> Iterator[live.LiveServer]:
    """``hdh serve`` on a migrated database holding a researcher who uses TOTP."""
    home = tmp_path_factory.mktemp("e2e-home")
    researcher = live.Account(
        username="e2e-researcher",
        email="e2e@example.org",
        password=f"Essai-{secrets.token_urlsafe(18)}",
        totp_secret=pyotp.random_base32(),
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("HDH_", "DJANGO_", "DATABASE_URL"))
    }
    env.update(
        HDH_HOME=str(home),
        DATABASE_URL=e2e_database_url,
        E2E_PASSWORD=researcher.password,
    )
    try:
        live.run_hdh(["migrate", "--noinput"], env)
        live.run_hdh(
            [
                "createuser",
                researcher.username,
                "--email",
                researcher.email,
                "--role",
                "researcher",
                "--password-env",
                "E2E_PASSWORD",
                "--totp-secret",
                researcher.totp_secret,
            ],
            env,
        )
        with live.serving(env, home / "server.log") as url:
            yield live.LiveServer(url=url, researcher=researcher)
    except live.ServerError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium. Module-scoped: Playwright's event loop must end with the
    browser tests, or Django code run later in the same process would refuse to run."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser profile (no cookies) of a French-speaking visitor."""
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()
