"""A real hdh server run the way an operator runs it, for end-to-end tests.

The server is ``hdh serve`` (waitress serving ``hdh.wsgi``) in a subprocess, on a
database of its own: a SQLite file, or a uniquely named PostgreSQL database when
the test run itself uses PostgreSQL.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pyotp
from playwright.sync_api import Page

START_TIMEOUT = 30.0
TOTP_PERIOD = 30


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
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


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
