"""A throw-away database for one benchmark run: a SQLite file in a temporary
HDH_HOME, or a uniquely named PostgreSQL database on HDH_TEST_POSTGRES_URL."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"


def configure(database: str, home: Path) -> str | None:
    """Point the settings at a fresh database; returns the PostgreSQL name to drop."""
    os.environ["HDH_HOME"] = str(home)
    os.environ.pop("DATABASE_URL", None)
    if database != "postgres":
        return None
    import psycopg

    server = os.environ.get("HDH_TEST_POSTGRES_URL", DEFAULT_SERVER)
    name = f"hdh_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = server.rsplit("/", 1)[0] + "/" + name
    return name


def drop(name: str | None) -> None:
    if name is None:
        return
    import psycopg
    from django.db import connections

    connections.close_all()
    server = os.environ.get("HDH_TEST_POSTGRES_URL", DEFAULT_SERVER)
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
