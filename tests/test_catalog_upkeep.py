"""Upkeep of the search index on PostgreSQL after a bulk rebuild.

Outside ``tests/catalog``: that package keeps its demo catalog in one open
transaction, inside which PostgreSQL refuses VACUUM."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command

from hdh.catalog.models import SearchTerm
from tests.catalog.test_search_bounded import _counts_match_the_index
from tests.factories.catalog import create_test_base, import_small


def _vacuums(table: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_get_vacuum_count(%s::regclass)", [table])
        return int(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
def test_a_bulk_rebuild_vacuums_the_index_outside_a_transaction(tmp_path: Path) -> None:
    """Every base written updates its terms' document counts (dead rows on PostgreSQL):
    ``hdh catalog reindex`` vacuums the index tables when it can, and only gathers
    statistics inside a transaction, where PostgreSQL refuses VACUUM."""
    from django.db import connection, transaction

    from hdh.catalog.search.index import analyze

    base = create_test_base(title="Registre des zygomycoses")
    import_small(base, tmp_path)
    with transaction.atomic():
        analyze()  # ANALYZE only: VACUUM would fail in a transaction block
    if connection.vendor != "postgresql":
        call_command("catalog", "reindex")  # nothing to tidy on SQLite
        _counts_match_the_index()
        return
    table = SearchTerm._meta.db_table
    before = _vacuums(table)
    call_command("catalog", "reindex")
    assert _vacuums(table) == before + 1
    _counts_match_the_index()
