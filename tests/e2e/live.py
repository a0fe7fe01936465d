"""A real hdh server run the way an operator runs it, for end-to-end tests.

The server is ``hdh serve`` (waitress serving ``hdh.wsgi``) in a subprocess, on a
database of its own: a SQLite file, or a uniquely named PostgreSQL database when
the test run itself uses PostgreSQL. :func:`demo_platform` sets up the demo
(``hdh demo --no-serve``) on such a database and runs ``hdh worker`` beside the
server, as ``hdh demo`` does for a person trying the platform.
"""

from __future__ import annotations

import functools
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pyotp
from playwright.sync_api import Page

START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0
DEMO_TIMEOUT = 1200
TOTP_PERIOD = 30
# Enough people for the demo's prepared datasets, few enough for a quick setup.
DEMO_BENEFICIARIES = "1500"


class ServerError(RuntimeError):
    """The server, or one of the commands that prepare it, failed."""


@dataclass
class Account:
    username: str
    email: str
    password: str
    totp_secret: str
    _used_codes: set[str] = field(default_factory=set, repr=False)

    def totp_code(self) -> str:
        """A code the server has not accepted yet: each code is accepted only once."""
        totp = pyotp.TOTP(self.totp_secret)
        code = totp.now()
        while code in self._used_codes:
            time.sleep(TOTP_PERIOD - time.time() % TOTP_PERIOD + 0.5)
            code = totp.now()
        self._used_codes.add(code)
        return code


@dataclass
class LiveServer:
    url: str
    researcher: Account


@dataclass
class DemoPlatform:
    """A running demo (:func:`demo_platform`): its base URL, the environment of its
    ``hdh`` commands and what ``hdh demo`` printed."""

    url: str
    env: dict[str, str]
    output: str


@functools.cache
def demo_account(username: str) -> Account:
    """A person ``hdh demo`` creates, with the password and TOTP secret it prints.

    One object per person for the whole run: the demo platform is shared by several
    test modules, and a TOTP code the server accepted for a person is not accepted
    again, whichever test signs that person in next."""
    # Imported here: this module is imported by conftest, before Django is set up.
    from hdh.accounts.demo import _PEOPLE, demo_totp_secret

    person = next((p for p in _PEOPLE if p.username == username), None)
    if person is None:
        raise LookupError(f"no demo account named {username!r}")
    return Account(
        username=username,
        email="",
        password=person.password,
        totp_secret=demo_totp_secret(username),
    )


def hdh_command() -> list[str]:
    """The ``hdh`` console script of the running interpreter's environment."""
    script = shutil.which("hdh", path=str(Path(sys.executable).parent)) or shutil.which("hdh")
    return [script] if script else [sys.executable, "-m", "hdh.cli"]


def run_hdh(args: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(
        [*hdh_command(), *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    if result.returncode != 0:
        raise ServerError(
            f"`hdh {args[0]}` failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def is_postgres(url: str) -> bool:
    return urlsplit(url).scheme in {"postgres", "postgresql", "pgsql"}


@contextmanager
def fresh_postgres_database(server_url: str) -> Iterator[str]:
    """Create a uniquely named database on the server of ``server_url``; drop it after."""
    import psycopg
    from psycopg import sql

    name = f"hdh_e2e_{secrets.token_hex(6)}"
    parts = urlsplit(server_url)
    # psycopg reads postgresql:// URLs; dj-database-url also accepts postgres://.
    admin_url = urlunsplit(parts._replace(scheme="postgresql"))
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def wait_until_healthy(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    """Poll ``/healthz`` until it answers 200, the server exits, or time runs out."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise ServerError(f"hdh serve exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise ServerError(
        f"hdh serve did not answer /healthz within {START_TIMEOUT:.0f} s:\n{log.read_text()}"
    )


@contextmanager
def serving(env: dict[str, str], log: Path) -> Iterator[str]:
    """``hdh serve`` on a free local port; yields its base URL and stops it after."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [*hdh_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_healthy(url, server, log)
        yield url
    finally:
        stop(server)


def clean_environment() -> dict[str, str]:
    """This process's environment without any hdh, Django or database setting."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("HDH_", "DJANGO_", "DATABASE_URL"))
    }


@contextmanager
def own_database(home: Path) -> Iterator[str]:
    """A database for one server: a fresh PostgreSQL database when this test run uses
    PostgreSQL (dropped after), else a SQLite file in ``home``."""
    run_url = os.environ.get("DATABASE_URL", "")
    if is_postgres(run_url):
        with fresh_postgres_database(run_url) as url:
            yield url
    else:
        yield f"sqlite:///{home / 'hdh.sqlite3'}"


def stop(process: subprocess.Popen[bytes]) -> None:
    """Ask a child process to end; kill it if it does not within ``STOP_TIMEOUT``."""
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT)


@contextmanager
def demo_platform(
    home: Path, *, worker: bool = True, extra_env: Mapping[str, str] | None = None
) -> Iterator[tuple[str, dict[str, str], str]]:
    """The demo as a person tries it: ``hdh demo --no-serve`` in ``home`` on a database
    of its own, then ``hdh serve`` and, with ``worker``, ``hdh worker`` beside it.

    Yields the server's base URL, the environment the commands ran with (for
    further ``hdh`` commands on the same platform) and what ``hdh demo`` printed.
    ``extra_env`` overrides the defaults (for example ``HDH_DEMO_BENEFICIARIES``).
    """
    with ExitStack() as stack:
        env = clean_environment()
        env.update(
            HDH_HOME=str(home),
            DATABASE_URL=stack.enter_context(own_database(home)),
            HDH_DEMO_BENEFICIARIES=DEMO_BENEFICIARIES,
        )
        env.update(extra_env or {})
        result = subprocess.run(
            [*hdh_command(), "demo", "--no-serve"],
            env=env,
            capture_output=True,
            text=True,
            timeout=DEMO_TIMEOUT,
            check=False,
        )
        if result.returncode != 0:
            raise ServerError(
                f"`hdh demo --no-serve` failed ({result.returncode}):\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        if worker:
            log = stack.enter_context((home / "worker.log").open("wb"))
            process = subprocess.Popen(
                [*hdh_command(), "worker"], env=env, stdout=log, stderr=subprocess.STDOUT
            )
            stack.callback(stop, process)
        url = stack.enter_context(serving(env, home / "server.log"))
        yield url, env, result.stdout


def sign_in(page: Page, server: LiveServer, account: Account) -> None:
    """Sign in from the home page's header link: password, then the TOTP code."""
    page.goto(f"{server.url}/")
    page.get_by_role("link", name="Se connecter").click()
    page.locator("input[name=username]").fill(account.username)
    page.locator("input[name=password]").fill(account.password)
    page.locator("input[name=password]").press("Enter")
    code = page.locator("input[name=code]")
    code.wait_for(state="visible")
    code.fill(account.totp_code())
    code.press("Enter")
    page.wait_for_url(f"{server.url}/")
