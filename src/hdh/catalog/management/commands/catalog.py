"""``hdh catalog``: import-tableschema, search, reindex, exports and a search benchmark."""

from __future__ import annotations

import json
import time
from argparse import ArgumentParser
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.http import Http404

from hdh.catalog.benchmark import measure
from hdh.catalog.export.dcat import FORMATS
from hdh.catalog.export.formats import export_csvw, export_data_package, export_dcat
from hdh.catalog.models import Base, Variable
from hdh.catalog.search.index import analyze, reindex_base
from hdh.catalog.search.query import FACETS, search
from hdh.catalog.services.dictionary import import_tableschema
from hdh.catalog.synthetic import generate
from hdh.core.errors import ValidationFailed


class Command(BaseCommand):
    help = "Import data dictionaries into the catalog, search it, rebuild its search index."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser(
            "import-tableschema", help="Import a Table Schema folder as a base's new dictionary."
        )
        load.add_argument("directory", help="Folder of Table Schema descriptors and code lists.")
        load.add_argument("--base", required=True, help="Slug of the base.")
        find = sub.add_parser("search", help="Search bases, tables, variables and code lists.")
        find.add_argument("query")
        find.add_argument("--json", action="store_true", help="Print the results as JSON.")
        find.add_argument("--limit", type=int, default=20)
        for name in FACETS:
            find.add_argument(
                f"--{name.replace('_', '-')}",
                dest=name,
                default="",
                help=f"Only hits with this {name.replace('_', ' ')}.",
            )
        sub.add_parser("reindex", help="Rebuild the search index of every base.")
        export = sub.add_parser(
            "export-dcat", help="DCAT-AP 3 + HealthDCAT-AP of one base or the catalog."
        )
        export.add_argument("--base", help="Slug of one base (default: the whole catalog).")
        export.add_argument("--format", choices=sorted(FORMATS), default="turtle")
        columns = sub.add_parser("export-csvw", help="A base's variables as CSVW (RDF).")
        columns.add_argument("--base", required=True, help="Slug of the base.")
        columns.add_argument("--format", choices=sorted(FORMATS), default="jsonld")
        generate = sub.add_parser(
            "generate-synthetic", help="Add generated bases for load tests (synthetique-N)."
        )
        generate.add_argument("--bases", type=int, default=10)
        generate.add_argument("--tables", type=int, default=10, help="Tables per base.")
        generate.add_argument("--variables", type=int, default=100, help="Variables per table.")
        bench = sub.add_parser(
            "benchmark-search", help="Time the acceptance queries (HTTP stack and in process)."
        )
        bench.add_argument("--repeat", type=int, default=20)
        package = sub.add_parser(
            "export-tableschema", help="A base's dictionary as a Frictionless Data Package."
        )
        package.add_argument("--base", required=True, help="Slug of the base.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "import-tableschema":
            self._import(options["directory"], options["base"])
        elif action == "search":
            self._search(options)
        elif action == "generate-synthetic":
            started = time.perf_counter()
            made = generate(
                bases=max(0, min(options["bases"], 10_000)),
                tables_per_base=max(1, min(options["tables"], 1000)),
                variables_per_table=max(1, min(options["variables"], 1000)),
            )
            self.stdout.write(
                f"generated {made} variables in {time.perf_counter() - started:.1f} s"
            )
        elif action == "benchmark-search":
            for latency in measure(repeat=max(1, min(options["repeat"], 1000))):
                self.stdout.write(latency.line())
        elif action == "export-dcat":
            self.stdout.write(
                self._export(lambda: export_dcat(slug=options["base"], fmt=options["format"]))
            )
        elif action == "export-csvw":
            self.stdout.write(
                self._export(lambda: export_csvw(slug=options["base"], fmt=options["format"]))
            )
        elif action == "export-tableschema":
            self.stdout.write(self._export(lambda: export_data_package(slug=options["base"])))
        else:
            count = sum(reindex_base(base) for base in Base.objects.all())
            analyze()
            self.stdout.write(f"reindexed: {count} documents")

    def _export(self, produce: Callable[[], str]) -> str:
        try:
            return produce()
        except Http404 as exc:
            raise CommandError("no such base") from exc

    def _import(self, directory: str, slug: str) -> None:
        base = Base.objects.filter(slug=slug).first()
        if base is None:
            raise CommandError(f"no base with slug {slug[:80]!r}")
        started = time.perf_counter()
        try:
            version = import_tableschema(directory=directory, base=base, by=None)
        except ValidationFailed as exc:
            for problem in exc.problems:
                self.stderr.write(problem)
            raise CommandError(str(exc)) from exc
        tables = version.tables.count()
        variables = Variable.objects.filter(table__version=version).count()
        self.stdout.write(
            f"{base.slug}: dictionary version {version.number} imported — {tables} tables, "
            f"{variables} variables, "
            f"{version.code_lists.count()} code lists in {time.perf_counter() - started:.1f} s"
        )

    def _search(self, options: dict[str, Any]) -> None:
        limit = max(1, min(options["limit"], 200))
        filters = {name: options[name] for name in FACETS if options.get(name)}
        results = search(options["query"], filters=filters, limit=limit)
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "query": results.query,
                        "total": results.total,
                        "approximate": results.approximate,
                        "partial": results.partial,
                        "hits": [hit.as_dict() for hit in results.hits],
                        "facets": {
                            name: [
                                {"value": v.value, "label": v.label, "count": v.count}
                                for v in values
                            ]
                            for name, values in results.facets.items()
                        },
                    },
                    ensure_ascii=False,
                    indent=2,
                )
            )
            return
        self.stdout.write(f"{results.total} result(s)")
        for hit in results.hits:
            where = f"{hit.base_name} / {hit.table_name}" if hit.table_name else hit.base_name
            self.stdout.write(f"  [{hit.kind}] {hit.name} — {hit.title[:80]} ({where})")
