"""Background work of preparation, run by ``hdh worker``."""

from __future__ import annotations

from django.db import transaction
from django_tasks import task

from hdh.preparation import services
from hdh.preparation.models import PreparationRun


@task()
def run_preparation(run_id: int) -> str:
    """Execute one preparation run; a run another live worker holds is left to it."""
    run = services.execute_run(run_id)
    return run.status if run is not None else "missing"


def enqueue(run: PreparationRun) -> None:
    """Queue ``run`` once the current transaction commits."""
    run_id = run.pk
    transaction.on_commit(lambda: run_preparation.enqueue(run_id))
