"""Bulk insertion of plain rows, the one place where the two databases differ on import."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection


def insert_rows(table: str, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert ``rows`` in the caller's transaction: COPY on PostgreSQL, one prepared
    statement executed many times elsewhere. Identifiers come from model metadata."""
    if not rows:
        return
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})"  # noqa: S608
        cursor.executemany(sql, rows)


def allocate_ids(table: str, count: int) -> list[int]:
    """Reserve ``count`` primary keys of ``table`` for rows inserted by :func:`insert_rows`.

    PostgreSQL draws them from the column's sequence; SQLite continues after the
    largest key, which is safe because every transaction there holds the write
    lock from its start (``transaction_mode = IMMEDIATE``).
    """
    if count <= 0:
        return []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {quote(table)}")  # noqa: S608
        start = int(cursor.fetchone()[0]) + 1
    return list(range(start, start + count))


def prepare_for_bulk_writes() -> None:
    """Give SQLite a page cache large enough for index-heavy bulk inserts (this
    connection only); the default 2 MB makes every posting insert a disk read."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -262144")
