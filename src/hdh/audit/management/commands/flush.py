"""``flush`` empties every table — including the audit log, which must never be
erased on a real platform. It is refused unless ``HDH_ALLOW_AUDIT_FLUSH`` is set
(test databases only); then the append-only triggers are lifted for the flush
and put back at once."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import CommandError
from django.core.management.commands.flush import Command as DjangoFlush
from django.db import connections

from hdh.audit import triggers


class Command(DjangoFlush):
    def handle(self, **options: Any) -> None:
        if os.environ.get("HDH_ALLOW_AUDIT_FLUSH") != "1":
            raise CommandError(
                "refused: flushing the database would erase the audit log. "
                "Use a fresh database instead."
            )
        connection = connections[options["database"]]
        triggers.remove(connection)
        try:
            super().handle(**options)
        finally:
            triggers.install(connection)
