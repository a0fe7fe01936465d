"""``hdh demo``: the whole platform on one machine with demo data.

Migrates the embedded database, loads demo data (one account per platform role,
and whatever each domain app contributes through its ``demo.load()``), prints
the logins, then starts the worker and the web server together.
"""

from __future__ import annotations

import importlib
import os
import signal
import subprocess  # nosec B404
import sys
from argparse import ArgumentParser
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from hdh.management import demo_preparation


class Command(BaseCommand):
    help = "Set up demo data and run the web server and the worker together."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--no-serve",
            action="store_true",
            help="Only set up the database and demo data, then exit.",
        )

    def handle(self, *args: Any, host: str, port: int, no_serve: bool, **options: Any) -> None:
        self.stdout.write("hdh demo: preparing the database…")
        call_command("migrate", interactive=False, verbosity=0)
        self._load_demo_data()
        self._print_logins(host, port)
        if no_serve:
            return
        # A fixed argv: this interpreter running hdh's own worker.
        worker = subprocess.Popen(  # nosec B603
            [sys.executable, "-m", "hdh.cli", "worker"], env=os.environ.copy()
        )
        self.stdout.write(f"worker started (pid {worker.pid})")

        def stop(signum: int, frame: object) -> None:
            raise SystemExit(0)

        # Ctrl-C or a service manager's SIGTERM stops the server and then the worker.
        signal.signal(signal.SIGTERM, stop)
        self.stdout.write(f"\n  ➜  hdh is running at http://{host}:{port}/\n")
        self.stdout.flush()
        try:
            call_command("serve", host=host, port=port)
        except KeyboardInterrupt:
            pass
        finally:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    worker.kill()

    def _load_demo_data(self) -> None:
        # Every hdh app may contribute demo data through a ``demo`` module with a
        # ``load()`` function — the same hook a third-party app would use.
        for config in apps.get_app_configs():
            if not config.name.startswith("hdh.") or config.name == "hdh.accounts":
                continue
            try:
                module = importlib.import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name == f"{config.name}.demo":
                    continue
                raise
            summary = module.load(**demo_preparation.HOOKS.get(config.name, {}))
            if summary:
                self.stdout.write(f"  {config.verbose_name}: {summary}")

    def _print_logins(self, host: str, port: int) -> None:
        from hdh.accounts.demo import create_demo_accounts

        accounts = create_demo_accounts()
        self.stdout.write("\nDemo accounts (second factor: TOTP — add the secret to an")
        self.stdout.write(
            "authenticator app, or run `hdh totpcode USERNAME` for the current code):\n"
        )
        width = max(len(a.username) for a in accounts)
        self.stdout.write(
            f"  {'username'.ljust(width)}  {'password'.ljust(22)}  totp secret"
            "                       roles"
        )
        for account in accounts:
            roles = ", ".join(str(r) for r in account.roles)
            self.stdout.write(
                f"  {account.username.ljust(width)}  {account.password.ljust(22)}  "
                f"{account.totp_secret.ljust(32)}  {roles}"
            )
        self.stdout.write(f"\nSign in at http://{host}:{port}/comptes/connexion/")
        if str(settings.EMAIL_BACKEND).endswith("filebased.EmailBackend"):
            self.stdout.write(f"E-mail notifications are written to {settings.EMAIL_FILE_PATH}/")
