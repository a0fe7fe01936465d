"""``hdh audit verify`` and ``hdh audit seal``."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from hdh.audit import services
from hdh.audit.verify import verify


class Command(BaseCommand):
    help = "Verify the audit log (hash chain, seals, anchor) or seal the days that have ended."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser("verify", help="Check the whole log; exit 1 on the first problem.")
        check.add_argument("--anchor", type=Path, help="Anchor file (default: HDH_AUDIT_ANCHOR).")
        check.add_argument("--json", action="store_true", help="Print a JSON report.")
        sub.add_parser("seal", help="Seal every ended UTC day not sealed yet.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "seal":
            seals = services.seal_pending_days()
            for seal in seals:
                self.stdout.write(f"sealed {seal.day}: head #{seal.head_seq} {seal.head_hash}")
            if not seals:
                self.stdout.write("nothing to seal")
            return
        report = verify(anchor=options.get("anchor"))
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "ok": report.ok,
                        "events_checked": report.events_checked,
                        "seals_checked": report.seals_checked,
                        "head_seq": report.head_seq,
                        "head_hash": report.head_hash,
                        "problems": [p.__dict__ for p in report.problems],
                        "warnings": report.warnings,
                    },
                    indent=2,
                )
            )
        for warning in report.warnings:
            self.stderr.write(f"warning: {warning}")
        if not report.ok:
            problem = report.first_problem
            assert problem is not None
            raise CommandError(f"audit log NOT intact: {problem.message}", returncode=1)
        if not options["json"]:
            self.stdout.write(
                f"audit log intact: {report.events_checked} events, {report.seals_checked} seals, "
                f"head #{report.head_seq} {report.head_hash}"
            )
