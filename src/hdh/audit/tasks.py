"""Background work of the audit log, run by ``hdh worker``."""

from __future__ import annotations

from django_tasks import task

from hdh.audit import services


@task()
def seal_pending_days() -> list[str]:
    return [seal.day.isoformat() for seal in services.seal_pending_days()]
