"""``hdh keys init|status|rotate-master``: the pseudonymisation key store.

Only versions and fingerprints are printed, never a key.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from hdh.audit import services as audit
from hdh.keys.store import SECRETS, KeyInfo, KeyStore, KeyStoreError, default_store


class Command(BaseCommand):
    help = "Manage the pseudonymisation key store (HDH_KEY_STORE)."
    # ``init`` must run before the key store check can pass.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("init", help="Create the store and the first version of each secret.")
        sub.add_parser("status", help="Show versions and fingerprints.")
        rotate = sub.add_parser("rotate-master", help="Add a new version of a master secret.")
        rotate.add_argument("secret", choices=SECRETS)
        rotate.add_argument(
            "--force",
            action="store_true",
            help="add a level1 version although the lake is not re-pseudonymised under it",
        )

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        from pathlib import Path

        from django.conf import settings

        store = KeyStore(Path(settings.HDH_KEY_STORE), lake=Path(settings.HDH_LAKE))
        try:
            if action == "init":
                infos = store.init()
                with transaction.atomic():
                    audit.record(
                        action="keys.store_initialised",
                        details={"versions": {i.secret: i.version for i in infos}},
                    )
                self._show(infos)
            elif action == "status":
                if not store.path.exists():
                    store = default_store()
                problems = store.problems()
                self._show(store.status())
                for problem in problems:
                    self.stderr.write(problem)
                if problems:
                    raise CommandError("the key store is not safe to use")
            else:
                secret = options["secret"]
                if secret == SECRETS[0] and not options["force"]:  # level1
                    # The new version is used at once for deposits and citizens'
                    # objections, while the lake's person columns stay under the old
                    # one: objections would silently stop matching (ADR 0009).
                    raise CommandError(
                        "a new level1 version makes every later objection and deposit "
                        "miss the lake until it is re-pseudonymised from the identity "
                        "store, which is not automated; pass --force to add it anyway"
                    )
                info = store.rotate(secret)
                with transaction.atomic():
                    audit.record(
                        action="keys.master_rotated",
                        details={
                            "master": info.secret,
                            "version": info.version,
                            "forced": bool(options.get("force")),
                        },
                    )
                self._show([info])
        except KeyStoreError as exc:
            raise CommandError(str(exc)) from None

    def _show(self, infos: list[KeyInfo]) -> None:
        for info in infos:
            self.stdout.write(f"{info.secret}\tv{info.version:04d}\t{info.fingerprint}")
