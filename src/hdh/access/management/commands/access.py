"""``hdh access diagram`` and ``hdh access close-expired``."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from hdh.access import diagram
from hdh.access.services import decisions


class Command(BaseCommand):
    help = "Guichet: write the workflow diagram, or close projects whose permit has ended."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        draw = sub.add_parser("diagram", help="Write docs/access-workflow.md from the table.")
        draw.add_argument("--output", type=Path, default=diagram.DOCUMENT)
        draw.add_argument(
            "--check", action="store_true", help="Exit 1 if the file differs from the table."
        )
        sub.add_parser("close-expired", help="Close every project whose permit has ended.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "close-expired":
            closed = decisions.close_expired()
            self.stdout.write(f"closed {len(closed)} project(s): {' '.join(closed)}".strip())
            return
        output: Path = options["output"]
        text = diagram.document()
        if options["check"]:
            if not output.exists() or output.read_text(encoding="utf-8") != text:
                raise CommandError(f"{output} is out of date: run `hdh access diagram`")
            self.stdout.write(f"{output} is up to date")
            return
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        self.stdout.write(f"wrote {output}")
