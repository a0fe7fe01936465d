"""The demo catalog (the whole SNDS and the demo bases), loaded once for the package.

It is loaded inside a transaction that is rolled back when the package's tests
are done, so no other package sees it; each test runs in a savepoint inside it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, transaction

from hdh.catalog import demo


@pytest.fixture(scope="package")
def demo_catalog(django_db_setup: Any, django_db_blocker: Any) -> Iterator[str]:
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            summary = demo.load()
            if connection.vendor == "postgresql":
                # Check the deferred foreign keys of the load now, once: otherwise
                # every test's savepoint would fire them again at its teardown.
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    yield summary
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


@pytest.fixture
def catalog(demo_catalog: str, db: Any) -> str:
    """The demo catalog, for a test that runs in the database."""
    return demo_catalog
