"""Background work of preparation, run by ``hdh worker``."""

from __future__ import annotations

from django.db import transaction
from django_tasks import task

from hdh.preparation import linkages, services
from hdh.preparation.models import LinkageRun, PreparationRun


@task()
def run_preparation(run_id: int) -> str:
    """Execute one preparation run; a run another live worker holds is left to it."""
    run = services.execute_run(run_id)
    return run.status if run is not None else "missing"


def enqueue(run: PreparationRun) -> None:
    """Queue ``run`` once the current transaction commits."""
    run_id = run.pk
    transaction.on_commit(lambda: run_preparation.enqueue(run_id))


@task()
def run_linkage(run_id: int) -> str:
    """Execute one cohort linkage run."""
    run = linkages.execute_linkage(run_id)
    return run.status if run is not None else "missing"


def enqueue_linkage(run: LinkageRun) -> None:
    """Queue ``run`` once the current transaction commits."""
    run_id = run.pk
    transaction.on_commit(lambda: run_linkage.enqueue(run_id))


def sweep() -> dict[str, int]:
    """Settle the preparation and linkage runs whose worker died (see ``hdh prepare sweep``)."""
    return {
        "runs_interrupted": services.recover_interrupted_runs(),
        "linkages_interrupted": linkages.recover_interrupted_linkages(),
    }


@task()
def sweep_interrupted_runs() -> dict[str, int]:
    """Periodic: fail the runs whose worker stopped beating; delete their cohort files."""
    return sweep()
