"""``hdh lake``: the lake from the command line.

hdh lake ingest --base snds --table IR_BEN_R --as USER ir_ben_r.csv
hdh lake versions --base snds
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from hdh.catalog.models import Base
from hdh.core.errors import NotAllowed, ValidationFailed
from hdh.lake.models import DatasetVersion, DepositStatus
from hdh.lake.services import ingest


class Command(BaseCommand):
    help = "Deposit table data in the lake and list its versions."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        deposit = sub.add_parser("ingest", help="validate files and publish a version")
        deposit.add_argument("--base", required=True)
        deposit.add_argument("--table", required=True)
        deposit.add_argument("--as", dest="username", required=True, help="depositing producer")
        deposit.add_argument("--json", action="store_true", help="print the full report")
        deposit.add_argument("files", nargs="+", type=Path)
        versions = sub.add_parser("versions", help="list dataset versions")
        versions.add_argument("--base", required=True)

    def handle(self, *args: Any, what: str, **options: Any) -> None:
        base = Base.objects.filter(slug=options["base"]).first()
        if base is None:
            raise CommandError(f"no base {options['base']!r} in the catalog")
        if what == "versions":
            for version in DatasetVersion.objects.filter(base=base):
                self.stdout.write(
                    f"{version.table_name} v{version.number}: {version.row_count} rows "
                    f"({version.created_at:%Y-%m-%d %H:%M})"
                )
            return
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no user {options['username']!r}")
        missing = [str(f) for f in options["files"] if not f.is_file()]
        if missing:
            raise CommandError(f"not a file: {', '.join(missing)}")
        try:
            deposit = ingest(base=base, table=options["table"], files=options["files"], by=user)
        except (ValidationFailed, NotAllowed) as exc:
            raise CommandError(str(exc)) from exc
        if options["json"]:
            self.stdout.write(json.dumps(deposit.report, indent=2, ensure_ascii=False))
        if deposit.status == DepositStatus.ACCEPTED:
            assert deposit.version is not None
            self.stdout.write(
                f"{deposit.reference}: accepted, {deposit.table_name} "
                f"v{deposit.version.number}, {deposit.row_count} rows"
            )
            return
        self.stderr.write(f"{deposit.reference}: rejected ({deposit.row_count} rows read)")
        for finding in deposit.report["findings"]:
            first = finding["examples"][0] if finding["examples"] else {}
            where = f"{first.get('file')}, row {first.get('row')}" if first else ""
            self.stderr.write(
                f"  {finding['rule']} [{finding['column'] or '-'}] × {finding['count']}: "
                f"{finding['description']} ({where})"
            )
        raise CommandError("deposit rejected")
