"""``hdh backup DEST``: one self-describing, checksummed backup of the platform."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from hdh.management import backup


class Command(BaseCommand):
    help = (
        "Back up the database, the lake datasets it references, media, workspaces, airlock, "
        "the audit anchor and the key store's metadata (never its keys) into DEST "
        "(a new folder, or a .tar file)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("destination", type=Path, help="New folder (or DEST.tar) to write.")

    def handle(self, *args: Any, destination: Path, **options: Any) -> None:
        try:
            manifest = backup.create(destination, say=self.stdout.write)
        except backup.BackupError as exc:
            raise CommandError(str(exc), returncode=1) from exc
        audit = manifest["audit"]
        self.stdout.write(
            f"backup written to {destination}: {len(manifest['files'])} files, "
            f"audit head #{audit['head_seq']} {audit['head_hash']}"
        )
        self.stdout.write(
            f"manifest SHA-256 {manifest['manifest_sha256']} "
            "(keep it apart; hdh restore --expect-sha256 checks it)"
        )
        keys = manifest["key_store"]
        self.stdout.write(
            f"key store: {keys['versions']} key versions recorded (fingerprints only); "
            "back the key store up separately, apart from this backup"
            if keys["present"]
            else "key store: none found at HDH_KEY_STORE"
        )
        if manifest["damaged"] or manifest["skipped"]:
            for line in manifest["damaged"]:
                self.stderr.write(f"damaged: {line}")
            for line in manifest["skipped"]:
                self.stderr.write(f"skipped (link or special file): {line}")
            raise CommandError(
                "backup written, but the platform has damaged or skipped files (listed above)",
                returncode=1,
            )
