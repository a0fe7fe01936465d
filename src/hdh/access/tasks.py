"""Background work of the guichet, run by ``hdh worker``."""

from __future__ import annotations

from django_tasks import task

from hdh.access.services import decisions


@task()
def close_expired_permits() -> list[str]:
    """Close every project whose permit has ended; returns their references."""
    return [str(reference) for reference in decisions.close_expired()]
