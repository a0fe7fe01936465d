"""``hdh airlock diagram`` and ``hdh airlock release-approved``."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from hdh.airlock import diagram, services
from hdh.airlock.models import ReleaseRequest
from hdh.airlock.states import State


class Command(BaseCommand):
    help = "Airlock: write the state diagram, or finish releases left approved."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        draw = sub.add_parser("diagram", help="Write docs/airlock-states.md from the table.")
        draw.add_argument("--output", type=Path, default=diagram.DOCUMENT)
        draw.add_argument(
            "--check", action="store_true", help="Exit 1 if the file differs from the table."
        )
        sub.add_parser(
            "release-approved",
            help="Copy the files of approved requests whose release did not finish.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "release-approved":
            done = []
            for request in ReleaseRequest.objects.filter(state=State.APPROVED):
                services.release(request=request)
                done.append(request.reference)
            self.stdout.write(f"released {len(done)} request(s): {' '.join(done)}".strip())
            return
        output: Path = options["output"]
        text = diagram.document()
        if options["check"]:
            if not output.exists() or output.read_text(encoding="utf-8") != text:
                raise CommandError(f"{output} is out of date: run `hdh airlock diagram`")
            self.stdout.write(f"{output} is up to date")
            return
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        self.stdout.write(f"wrote {output}")
