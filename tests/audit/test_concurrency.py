"""Concurrent writers never fork the chain: every event gets the next seq and
links to its real predecessor."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from hdh.audit import services
from hdh.audit.models import AuditEvent
from hdh.audit.verify import verify


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_chain() -> None:
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("an in-memory SQLite database has no concurrent connections")
    errors: list[BaseException] = []

    def writer(worker: int) -> None:
        try:
            for n in range(15):
                with transaction.atomic():
                    services.record(action="test.concurrent", details={"w": worker, "n": n})
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert list(AuditEvent.objects.values_list("seq", flat=True)) == list(range(1, 61))
    assert verify().ok


@pytest.mark.django_db(transaction=True)
def test_flush_refused_outside_tests(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from django.core.management import CommandError, call_command

    services.record(action="test.keep")
    monkeypatch.delenv("HDH_ALLOW_AUDIT_FLUSH")
    with pytest.raises(CommandError, match="audit log"):
        call_command("flush", interactive=False, verbosity=0)
    assert AuditEvent.objects.count() == 1
