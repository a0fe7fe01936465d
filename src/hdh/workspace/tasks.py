"""Background work of the workspace, run by ``hdh worker``."""

from __future__ import annotations

from django.db import transaction
from django_tasks import task

from hdh.workspace import jobs, services
from hdh.workspace.models import Job


@task()
def run_job(job_id: int) -> str:
    """Execute one batch job in the sandbox; a job no longer queued is left as it is."""
    try:
        return str(jobs.execute_job(job_id).status)
    except Job.DoesNotExist:
        return "missing"


def enqueue(job: Job) -> None:
    """Queue ``job`` once the current transaction commits."""
    job_id = job.pk
    transaction.on_commit(lambda: run_job.enqueue(job_id))


@task()
def maintain_workspaces() -> dict[str, int]:
    """Periodic: fail jobs whose worker died, then apply the permits' end dates."""
    counts = services.sync_lifecycle()
    counts["interrupted"] = jobs.recover_interrupted_jobs()
    return counts
