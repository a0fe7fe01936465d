"""Fixtures for end-to-end tests: a real hdh server and a real browser.

The browser is Debian's Chromium (``/usr/bin/chromium``) driven by Playwright;
nothing is downloaded. Tests that use it are skipped, with the reason, only when
that binary is missing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

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
    """A database for a server alone: PostgreSQL when this test run uses it, else SQLite
    (for the browser tests of other packages, which import this fixture)."""
    run_url = os.environ.get("DATABASE_URL", "")
    if live.is_postgres(run_url):
        with live.fresh_postgres_database(run_url) as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('e2e-db') / 'hdh.sqlite3'}"


@pytest.fixture(scope="package")
def shared_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[live.DemoPlatform]:
    """One demo platform (``hdh demo --no-serve``, then server and worker) for the
    browser tests of this package. Setting up the demo is the slowest step of these
    tests, so it is done once. Each test works on objects no other test changes
    (its own jobs and outputs in the demo workspace, an airlock request it creates,
    the demo's ready application for the preparation pages alone), files its own
    (tests/e2e/test_citizens.py files an application to prepare) or only reads; the
    order of the tests does not matter.
    Package-scoped: the server and the worker stop once these tests are done."""
    try:
        with live.demo_platform(tmp_path_factory.mktemp("shared-demo")) as (url, env, output):
            yield live.DemoPlatform(url=url, env=env, output=output)
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
