"""``hdh synth``: synthetic data for catalogued tables.

hdh synth snds --care-rows 10000000 --out var/synth/snds
hdh synth tables --base oscour --rows 1000 --out var/synth/oscour
"""

from __future__ import annotations

import datetime as dt
import time
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from hdh.catalog.models import Base
from hdh.core.errors import ValidationFailed
from hdh.synth import catalogued, generic, snds


class Command(BaseCommand):
    help = "Generate synthetic data: a realistic SNDS, or any catalogued base's tables."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        realistic = sub.add_parser("snds", help="beneficiaries, care lines, stays, deaths")
        size = realistic.add_mutually_exclusive_group(required=True)
        size.add_argument("--beneficiaries", type=int)
        size.add_argument("--care-rows", type=int, help="about this many ER_PRS_F rows")
        realistic.add_argument("--out", type=Path, required=True)
        realistic.add_argument(
            "--identity-out", type=Path, help="where NIRs go (default: OUT-identite)"
        )
        realistic.add_argument("--seed", type=int, default=0)
        realistic.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2023, 1, 1))
        realistic.add_argument("--days", type=int, default=365)
        generic_parser = sub.add_parser("tables", help="any catalogued base")
        generic_parser.add_argument("--base", required=True)
        generic_parser.add_argument("--table", action="append", default=[])
        generic_parser.add_argument("--rows", type=int, default=1000)
        generic_parser.add_argument("--out", type=Path, required=True)
        generic_parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args: Any, what: str, **options: Any) -> None:
        started = time.perf_counter()
        out: Path = options["out"]
        if out.exists():
            raise CommandError(f"{out} already exists; synthetic outputs are never overwritten")
        try:
            rows = self._snds(**options) if what == "snds" else self._tables(**options)
        except (ValidationFailed, LookupError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        elapsed = time.perf_counter() - started
        for name, count in rows.items():
            self.stdout.write(f"  {name}: {count} rows")
        self.stdout.write(f"written to {out} in {elapsed:.1f} s")

    def _snds(self, **options: Any) -> dict[str, int]:
        count = options["beneficiaries"] or snds.beneficiaries_for(
            options["care_rows"], options["days"]
        )
        out: Path = options["out"]
        identity = options["identity_out"] or out.with_name(f"{out.name}-identite")
        spec = snds.SndsSpec(
            beneficiaries=count, seed=options["seed"], start=options["start"], days=options["days"]
        )
        result = snds.generate(spec=spec, out=out, identity_out=identity)
        self.stdout.write(f"identities (NIR) in {identity}: keep them apart")
        return result.rows

    def _tables(self, **options: Any) -> dict[str, int]:
        base = Base.objects.filter(slug=options["base"]).first()
        if base is None:
            raise CommandError(f"no base {options['base']!r} in the catalog")
        shapes = catalogued.shapes_of(base, options["table"])
        return generic.generate_tables(
            shapes=shapes,
            rows=options["rows"],
            out=options["out"],
            seed=options["seed"],
            codes=catalogued.code_values(base, shapes, limit=catalogued.MAX_CODES),
        )
