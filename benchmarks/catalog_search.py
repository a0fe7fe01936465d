"""Benchmark: catalog search latency through the HTTP stack, against raw full-text search.

On a fresh temporary database (SQLite file, or a throw-away PostgreSQL database
on HDH_TEST_POSTGRES_URL) it loads the demo catalog (the SNDS and the demo
bases), times the search page for a fixed set of queries, then adds a generated
catalog (``--bases`` bases holding ``--variables`` variables in all) and times
again. Each size is compared, in the same run and on the same documents, with
the database's own full-text search:

* SQLite: an FTS5 table (``unicode61``, diacritics removed) queried with
  ``MATCH`` and ``ORDER BY rank``;
* PostgreSQL: ``to_tsvector('french', …)`` under a GIN index, queried with
  ``plainto_tsquery('french', …)`` and ordered by ``ts_rank``.

Both baselines return the 20 best document ids; hdh's page also counts every
hit, computes the facets and renders the page.

The generated catalog is written in bulk (tables and variables by
``bulk_create``, then :func:`hdh.catalog.search.index.reindex_base` per base,
the function every import calls), because the import service takes about 100 s
per 90,000 variables. Its content is built as ``hdh catalog generate-synthetic``
builds it (SNDS variable names and descriptions, numbered); ``--check`` imports
one such base through the real import service as well and fails unless both
paths produced the same index rows.

Usage:
    python benchmarks/catalog_search.py [--database sqlite|postgres]
        [--variables N] [--bases B] [--tables T] [--repeat R] [--check] [--keep NAME]

``--keep NAME`` keeps the database for later runs (a folder holding the SQLite
file, or a PostgreSQL database of that name) and reuses it when it already holds
the catalog: generating a million variables takes minutes, searching does not.
Migrations run on it before timing; ``--reindex-demo`` rebuilds the demo bases' index.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _database import DEFAULT_SERVER, configure, drop  # a sibling module of this script

ROOT = Path(__file__).resolve().parents[1]
QUERIES = (
    # The acceptance queries.
    "NIR",
    "date de naissance",
    "diagnostic principal",
    "urgences",
    "ER_PRS_F",
    "diagnostique principal",
    # Common words and partial codes.
    "date",
    "code",
    "patient",
    "ER_PR",
    "DGN_PA",
    "BEN_NIR",
)
TOP = 20


@dataclass(frozen=True)
class Figures:
    label: str
    documents: int
    variables: int
    page: list[float]
    raw: list[float]
    per_query: dict[str, tuple[float, float]]


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, round(q * len(ordered)) - 1)] * 1000


# --- the generated catalog ------------------------------------------------------------


@dataclass(frozen=True)
class TableSpec:
    name: str
    title: str
    product: str
    fields: list[dict[str, Any]]


def plan_base(
    number: int, rng: random.Random, sample: list[dict[str, Any]], tables: int, variables: int
) -> tuple[dict[str, Any], list[TableSpec]]:
    """One generated base, drawn as ``hdh catalog generate-synthetic`` draws it."""
    from hdh.catalog.synthetic import HOLDERS, PRODUCTS
    from hdh.catalog.vocabularies import HealthCategory, MedicalDomain

    entry = {
        "slug": f"synthetique-{number}",
        "title": f"Base synthétique {number} : {rng.choice(PRODUCTS).lower()}",
        "acronym": f"SYN{number}",
        "description": "Base générée pour les essais de charge du catalogue.",
        "health_category": rng.choice(HealthCategory.values),
        "medical_domain": rng.choice(MedicalDomain.values),
        "data_holder": rng.choice(HOLDERS),
        "contact_email": "essais@example.org",
    }
    specs = []
    for t in range(tables):
        product = rng.choice(PRODUCTS)
        chosen: dict[str, dict[str, Any]] = {}
        while len(chosen) < variables:
            field = dict(rng.choice(sample))
            field["name"] = f"{field['name']}_{len(chosen)}"
            chosen[field["name"]] = field
        specs.append(
            TableSpec(f"T{number}_{t}", f"Table {t} ({product})", product, list(chosen.values()))
        )
    return entry, specs


VARIABLE_COLUMNS = (
    "table_id",
    "name",
    "label",
    "description",
    "type",
    "format",
    "length",
    "constraints",
    "code_list_id",
    "code_list_name",
    "date_created",
    "date_deleted",
    "management_rule",
    "observation",
    "is_direct_identifier",
    "is_potential_identifier",
    "is_pseudonym",
    "extra",
    "position",
)


def write_bulk(entries: list[tuple[dict[str, Any], list[TableSpec]]]) -> int:
    """Write bases, dictionaries and their index in bulk; returns the variables written."""
    from django.db import transaction

    from hdh.catalog.bulk import insert_rows, prepare_for_bulk_writes
    from hdh.catalog.models import Base, DictionaryVersion, Table, Variable
    from hdh.catalog.search.index import reindex_base

    prepare_for_bulk_writes()
    made = 0
    with transaction.atomic():
        bases = Base.objects.bulk_create([Base(**entry) for entry, _ in entries])
        versions = DictionaryVersion.objects.bulk_create(
            [DictionaryVersion(base=base, number=1, source="generated") for base in bases]
        )
        tables = Table.objects.bulk_create(
            [
                Table(
                    version=version,
                    name=spec.name,
                    title=spec.title,
                    product=spec.product,
                    position=i,
                )
                for version, (_, specs) in zip(versions, entries, strict=True)
                for i, spec in enumerate(specs)
            ],
            batch_size=5000,
        )
        specs = [spec for _, base_specs in entries for spec in base_specs]
        # The columns the import service writes, in plain rows: the ORM's per-object
        # cost would dominate at a million variables.
        rows = [
            (
                table.pk,
                field["name"],
                "",
                field.get("description", ""),
                field.get("type", "string"),
                "",
                "",
                "{}",
                None,
                "",
                "",
                "",
                "",
                "",
                False,
                False,
                False,
                "{}",
                i,
            )
            for table, spec in zip(tables, specs, strict=True)
            for i, field in enumerate(spec.fields)
        ]
        insert_rows(Variable._meta.db_table, VARIABLE_COLUMNS, rows)
        made += len(rows)
        for base, version in zip(bases, versions, strict=True):
            base.current_version = version
        Base.objects.bulk_update(bases, ["current_version"])
        for base in bases:
            reindex_base(base)
    return made


def generate(*, bases: int, variables: int, tables: int, progress: bool) -> int:
    from hdh.catalog.models import Base
    from hdh.catalog.synthetic import _sample_fields

    per_table = max(1, variables // max(1, bases * tables))
    rng = random.Random(1)  # noqa: S311 - reproducible test data, not a secret
    sample = _sample_fields()
    made = 0
    started = time.perf_counter()
    chunk = 20
    offset = Base.objects.filter(slug__startswith="synthetique-").count()
    for first in range(offset + 1, offset + bases + 1, chunk):
        numbers = range(first, min(first + chunk, offset + bases + 1))
        made += write_bulk([plan_base(n, rng, sample, tables, per_table) for n in numbers])
        if progress:
            rate = made / (time.perf_counter() - started)
            print(f"  … {made:,} variables ({rate:,.0f}/s)", file=sys.stderr, flush=True)
    return made


def index_rows(slug: str) -> Counter[tuple[Any, ...]]:
    """The index rows of one base, without ids or its own name, for comparisons."""
    from hdh.catalog.models import DocumentKind, SearchDocument, SearchPosting

    # The base's own document holds its slug; only its dictionary is compared.
    documents = SearchDocument.objects.filter(base__slug=slug).exclude(kind=DocumentKind.BASE)
    rows: Counter[tuple[Any, ...]] = Counter(
        documents.values_list(
            "kind", "name", "title", "snippet", "table_name", "code_list_name", "key", "product"
        )
    )
    rows.update(
        SearchPosting.objects.filter(document__in=documents).values_list(
            "document__kind", "document__name", "document__table_name", "term__term", "weight"
        )
    )
    return rows


def check_generator() -> None:
    """Fail unless a base written in bulk is indexed exactly as the import service indexes it."""
    from hdh.catalog.models import Base
    from hdh.catalog.search.index import drop_base
    from hdh.catalog.services.bases import create_base
    from hdh.catalog.services.dictionary import import_tableschema
    from hdh.catalog.synthetic import _sample_fields

    sample = _sample_fields()
    entry, specs = plan_base(900_001, random.Random(7), sample, 3, 50)  # noqa: S311
    write_bulk([(entry, specs)])
    imported = dict(entry)
    imported.pop("slug")
    slug = "synthetique-import-check"
    base = create_base(slug=slug, by=None, **imported)
    with tempfile.TemporaryDirectory() as folder:
        for spec in specs:
            path = Path(folder, "schemas", spec.product, f"{spec.name}.json")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(
                json.dumps(
                    {
                        "name": spec.name,
                        "title": spec.title,
                        "produit": spec.product,
                        "fields": spec.fields,
                    }
                ),
                encoding="utf-8",
            )
        import_tableschema(directory=folder, base=base, by=None)
    bulk, real = index_rows(entry["slug"]), index_rows(slug)
    if bulk != real:
        raise SystemExit(
            f"bulk generator differs from the import: {len(bulk - real)} rows only in bulk, "
            f"{len(real - bulk)} only in the import"
        )
    for done in Base.objects.filter(slug__in=[entry["slug"], slug]):
        drop_base(base_id=done.pk)
        done.delete()
    print("generator check: bulk index == import index", file=sys.stderr)


# --- the raw full-text baseline ------------------------------------------------------


def build_raw_index() -> None:
    from django.db import connection

    from hdh.catalog.search.index import analyze

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_fts")
        if connection.vendor == "postgresql":
            # What autovacuum would eventually do after the bulk load (it is off on
            # some servers, this machine's among them): the index's own upkeep, as
            # ``hdh catalog reindex`` runs it, then statistics for everything else, so
            # neither side is timed on stale plans or unvacuumed tables.
            analyze()
            cursor.execute("ANALYZE")
            cursor.execute(
                "CREATE TABLE bench_fts AS SELECT id, to_tsvector('french', "
                "name || ' ' || title || ' ' || snippet || ' ' || table_name || ' ' || "
                "code_list_name) AS doc FROM catalog_searchdocument"
            )
            cursor.execute("CREATE INDEX bench_fts_doc ON bench_fts USING gin (doc)")
            cursor.execute("ANALYZE bench_fts")
        else:
            cursor.execute(
                "CREATE VIRTUAL TABLE bench_fts USING fts5(name, title, snippet, table_name, "
                "code_list_name, tokenize = 'unicode61 remove_diacritics 2')"
            )
            cursor.execute(
                "INSERT INTO bench_fts (rowid, name, title, snippet, table_name, code_list_name) "
                "SELECT id, name, title, snippet, table_name, code_list_name "
                "FROM catalog_searchdocument"
            )


def raw_search(query: str) -> list[int]:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT id FROM bench_fts, plainto_tsquery('french', %s) q WHERE doc @@ q "
                "ORDER BY ts_rank(doc, q) DESC LIMIT %s",
                [query, TOP],
            )
        else:
            # Each word quoted: FTS5 then reads them as plain terms, all required.
            match = " ".join('"' + word.replace('"', '""') + '"' for word in query.split())
            cursor.execute(
                "SELECT rowid FROM bench_fts WHERE bench_fts MATCH %s ORDER BY rank LIMIT %s",
                [match, TOP],
            )
        return [row[0] for row in cursor.fetchall()]


# --- measuring ------------------------------------------------------------------------


def measure(label: str, repeat: int) -> Figures:
    from django.conf import settings
    from django.db.models import F
    from django.test import Client
    from django.urls import reverse

    from hdh.catalog.models import SearchDocument, Variable

    build_raw_index()
    host = next((h for h in settings.ALLOWED_HOSTS if h and "*" not in h), "localhost")
    client = Client(HTTP_HOST=host.lstrip("."))
    url = reverse("catalog:search")
    for query in QUERIES:  # warm caches once
        response = client.get(url, {"q": query})
        if response.status_code != 200:
            raise SystemExit(f"search page answered {response.status_code} for {query!r}")
        raw_search(query)
    page: dict[str, list[float]] = {q: [] for q in QUERIES}
    raw: dict[str, list[float]] = {q: [] for q in QUERIES}
    for _ in range(repeat):
        for query in QUERIES:
            started = time.perf_counter()
            client.get(url, {"q": query})
            page[query].append(time.perf_counter() - started)
            started = time.perf_counter()
            raw_search(query)
            raw[query].append(time.perf_counter() - started)
    return Figures(
        label=label,
        documents=SearchDocument.objects.count(),
        variables=Variable.objects.filter(
            table__version__base__current_version=F("table__version")
        ).count(),
        page=[s for q in QUERIES for s in page[q]],
        raw=[s for q in QUERIES for s in raw[q]],
        per_query={
            q: (statistics.median(page[q]) * 1000, statistics.median(raw[q]) * 1000)
            for q in QUERIES
        },
    )


def report(database: str, figures: list[Figures], repeat: int) -> None:
    name = {"sqlite": "SQLite", "postgres": "PostgreSQL"}[database]
    raw_name = {"sqlite": "FTS5 MATCH", "postgres": "tsvector @@ plainto_tsquery (GIN)"}[database]
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"# catalog search benchmark — {name} — {machine}")
    print(f"{len(QUERIES)} queries x {repeat} runs; baseline: {raw_name}, top {TOP}")
    print()
    print(
        "| database | catalog | documents | variables | page p50 (ms) | page p95 (ms) "
        "| raw p50 (ms) | raw p95 (ms) | ratio p50 | ratio p95 |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for f in figures:
        p50, p95 = percentile(f.page, 0.5), percentile(f.page, 0.95)
        r50, r95 = percentile(f.raw, 0.5), percentile(f.raw, 0.95)
        print(
            f"| {name} | {f.label} | {f.documents:,} | {f.variables:,} | {p50:.1f} | {p95:.1f} "
            f"| {r50:.2f} | {r95:.2f} | {p50 / r50:.0f} | {p95 / r95:.0f} |"
        )
    print()
    print("| database | catalog | query | page p50 (ms) | raw p50 (ms) |")
    print("|---|---|---|---|---|")
    for f in figures:
        for query, (page, raw) in f.per_query.items():
            print(f"| {name} | {f.label} | {query} | {page:.1f} | {raw:.2f} |")
    sys.stdout.flush()


def keep(database: str, name: str) -> None:
    """Point the settings at a kept database, created on first use."""
    os.environ.pop("DATABASE_URL", None)
    if database != "postgres":
        home = Path(name).resolve()
        home.mkdir(parents=True, exist_ok=True)
        os.environ["HDH_HOME"] = str(home)
        return
    import psycopg

    os.environ["HDH_HOME"] = tempfile.mkdtemp(prefix="hdh-bench-")
    server = os.environ.get("HDH_TEST_POSTGRES_URL", DEFAULT_SERVER)
    with psycopg.connect(server, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = server.rsplit("/", 1)[0] + "/" + name


def reindex_demo() -> None:
    from django.db import transaction

    from hdh.catalog.bulk import prepare_for_bulk_writes
    from hdh.catalog.models import Base
    from hdh.catalog.search.index import reindex_base

    started = time.perf_counter()
    prepare_for_bulk_writes()
    for base in Base.objects.exclude(slug__startswith="synthetique-"):
        with transaction.atomic():
            reindex_base(base)
    print(f"reindexed in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--variables", type=int, default=1_000_000, help="Generated, in all.")
    parser.add_argument("--bases", type=int, default=1000, help="Generated bases.")
    parser.add_argument("--tables", type=int, default=10, help="Tables per generated base.")
    parser.add_argument("--repeat", type=int, default=20, help="Runs of each query.")
    parser.add_argument(
        "--check", action="store_true", help="Check the bulk generator against the import."
    )
    parser.add_argument(
        "--keep",
        metavar="NAME",
        help="Keep the database (SQLite: a folder; PostgreSQL: a database name) and reuse it.",
    )
    parser.add_argument(
        "--reindex-demo",
        action="store_true",
        help="Rebuild the index of the demo bases of a kept database (after an indexer change).",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="hdh-bench-") as tmp:
        if args.keep:
            pg_name = None
            keep(args.database, args.keep)
        else:
            pg_name = configure(args.database, Path(tmp))
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hdh.settings")
        import django

        django.setup()
        from django.core.management import call_command

        from hdh.catalog import demo

        figures: list[Figures] = []
        try:
            call_command("migrate", verbosity=0, interactive=False)
            from hdh.catalog.models import Base

            generated = Base.objects.filter(slug__startswith="synthetique-").count()
            if not Base.objects.filter(slug="snds").exists():
                started = time.perf_counter()
                print(f"demo catalog: {demo.load()}", file=sys.stderr, flush=True)
                print(f"  loaded in {time.perf_counter() - started:.0f} s", file=sys.stderr)
                if args.check:
                    check_generator()
                figures.append(measure("SNDS + demo bases", args.repeat))
            elif args.reindex_demo:
                reindex_demo()
            if args.bases > 0 and args.variables > 0:
                if generated < args.bases:
                    started = time.perf_counter()
                    made = generate(
                        bases=args.bases - generated,
                        variables=args.variables * (args.bases - generated) // args.bases,
                        tables=args.tables,
                        progress=True,
                    )
                    elapsed = time.perf_counter() - started
                    print(f"generated {made:,} variables in {elapsed:.0f} s", file=sys.stderr)
                figures.append(measure(f"+ {args.bases:,} generated bases", args.repeat))
        finally:
            drop(pg_name)
    report(args.database, figures, args.repeat)


if __name__ == "__main__":
    main()
