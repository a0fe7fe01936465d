"""``hdh restore SRC --home NEWDIR``: restore a backup into a new home, then drill it."""

from __future__ import annotations

import argparse
import json
import re
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from hdh.engines import files
from hdh.management import backup, restore

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class Command(BaseCommand):
    help = (
        "Restore a backup into a new, empty HDH_HOME (and a new database), then run the "
        "restore drill: audit log verification, every dataset manifest's checksums and, "
        "with --key-store, the key store's fingerprints. Exit 1 on any failure."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("source", type=Path, help="Backup folder or .tar (hdh backup).")
        parser.add_argument("--home", type=Path, help="New, empty folder: the restored HDH_HOME.")
        parser.add_argument(
            "--database-url",
            help="New, empty database (required for a PostgreSQL backup; "
            "default for SQLite: NEWDIR/hdh.sqlite3).",
        )
        parser.add_argument(
            "--key-store",
            type=Path,
            help="The restored key store, checked against the backup's fingerprints.",
        )
        parser.add_argument(
            "--expect-sha256",
            help="SHA-256 of the backup's manifest.json, as recorded when it was written.",
        )
        parser.add_argument(
            "--drill",
            action="store_true",
            help="Do not restore: check the platform configured by the environment "
            "against the backup (what a restore runs on the restored platform).",
        )
        parser.add_argument("--json", action="store_true", help="Print the drill as JSON.")
        # Set by `hdh restore` for the drill it runs on the platform it has just restored.
        parser.add_argument("--after-restore", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["drill"]:
                self._drill(options)
            else:
                self._restore(options)
        except backup.BackupError as exc:
            raise CommandError(str(exc), returncode=1) from exc

    def _drill(self, options: dict[str, Any]) -> None:
        with backup.opened(options["source"], Path.cwd()) as root:
            result = restore.drill(root, key_store=options["key_store"])
            if result.ok and options["after_restore"]:
                restore.record_restore(backup.read_manifest(root))
        if options["json"]:
            self.stdout.write(json.dumps(result.as_json(), indent=2))
        else:
            self._print(result.as_json())
        if not result.ok:
            raise CommandError("restore drill FAILED", returncode=1)

    def _restore(self, options: dict[str, Any]) -> None:
        home = options["home"]
        if home is None:
            raise CommandError("--home NEWDIR is required (a new, empty folder)")
        expected = options["expect_sha256"]
        if expected is not None and not _SHA256.match(expected.lower()):
            raise CommandError("--expect-sha256 takes 64 hexadecimal characters")
        home = Path(home).absolute()
        home.parent.mkdir(parents=True, exist_ok=True)
        with backup.opened(options["source"], home.parent) as root:
            manifest = backup.read_manifest(root)
            if expected is not None and files.sha256_of(root / backup.MANIFEST) != expected.lower():
                raise CommandError(
                    f"{backup.MANIFEST}: its SHA-256 is not the expected one: "
                    "the backup was replaced or altered",
                    returncode=1,
                )
            problems = backup.check_files(root, manifest)
            if problems:
                for problem in problems:
                    self.stderr.write(f"refused: {problem}")
                raise CommandError(
                    f"backup refused: {problems[0]}"
                    + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
                    returncode=1,
                )
            self.stdout.write(
                f"backup of {manifest['created_at']} checked: {len(manifest['files'])} files"
            )
            target = restore.plan_target(
                home, options["database_url"], str(manifest["database"]["vendor"])
            )
            restore.restore_files(root, manifest, target)
            self.stdout.write(f"restored into {target.home}")
            code, report, errors = restore.run_drill_elsewhere(root, target, options["key_store"])
        if not report:
            raise CommandError(f"restore drill could not run:\n{errors.strip()[-2000:]}")
        self._print(report)
        if code != 0 or not report.get("ok"):
            raise CommandError("restore drill FAILED", returncode=1)
        self.stdout.write("restore drill passed")

    def _print(self, report: dict[str, Any]) -> None:
        for check in report.get("checks", []):
            mark = "ok  " if check["ok"] else "FAIL"
            self.stdout.write(f"{mark} {check['name']}: {check['detail']}")
        for warning in report.get("warnings", []):
            self.stdout.write(f"warning: {warning}")
