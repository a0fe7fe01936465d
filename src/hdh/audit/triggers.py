"""Database triggers that refuse UPDATE, DELETE (and on PostgreSQL TRUNCATE) of
audit rows. They are the database's own guard; the hash chain and the seals
are the proof that it held."""

from __future__ import annotations

from typing import Any

TABLES = ("audit_auditevent", "audit_auditseal")

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION hdh_audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
"""


def _statements(vendor: str, table: str) -> tuple[list[str], list[str]]:
    if vendor == "postgresql":
        install = [
            f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION hdh_audit_refuse_change()",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION hdh_audit_refuse_change()",
        ]
        remove = [
            f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
        ]
        return install, remove
    if vendor == "sqlite":
        install = [
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
            "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE refused'); END",
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
            "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: DELETE refused'); END",
        ]
        remove = [
            f"DROP TRIGGER IF EXISTS {table}_no_update",
            f"DROP TRIGGER IF EXISTS {table}_no_delete",
        ]
        return install, remove
    raise NotImplementedError(f"no append-only triggers for database vendor {vendor!r}")


def install(connection: Any) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_PG_FUNCTION)
        for table in TABLES:
            for sql in _statements(connection.vendor, table)[0]:
                cursor.execute(sql)


def remove(connection: Any) -> None:
    """Only for tests that must empty the database, and for migrations backwards."""
    with connection.cursor() as cursor:
        for table in TABLES:
            for sql in _statements(connection.vendor, table)[1]:
                cursor.execute(sql)
