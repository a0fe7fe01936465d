"""Batch jobs: submission, the worker's execution in the sandbox, cancel, rerun, recovery.

Each service takes keyword-only arguments and the acting user (``by=``),
checks permission on the workspace, then state, and writes its audit event
(target: the workspace; the job number in the details) in the same
transaction as its change. The audit log holds the script's checksum and
counts, never the script, its log or any output.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import mimetypes
import re
import shutil
import time
from pathlib import PurePosixPath
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from hdh.accounts.authorization import require_permission
from hdh.audit import services as audit
from hdh.core import clock
from hdh.core.errors import InvalidState, ValidationFailed
from hdh.core.governance import service_writes
from hdh.core.permissions import Permission
from hdh.workspace import policies, queries, sandbox, storage
from hdh.workspace.models import SCRIPT_LIMIT, Job, JobKind, JobStatus, Output, Workspace

logger = logging.getLogger(__name__)

NAME_LIMIT = 120
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
EXTENSIONS = {JobKind.PYTHON: ".py", JobKind.SQL: ".sql"}
# The worker reads the cancel flag at most this often, and beats this often;
# a running job whose beat is older than STALE_AFTER lost its worker (the
# margin covers checksumming large outputs after the run, when nothing beats).
CANCEL_POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 10.0
STALE_AFTER = dt.timedelta(minutes=10)
MESSAGE_LIMIT = 500

_STATUSES = {
    "succeeded": JobStatus.SUCCEEDED,
    "failed": JobStatus.FAILED,
    "timed_out": JobStatus.TIMED_OUT,
    "cancelled": JobStatus.CANCELLED,
    "refused": JobStatus.REFUSED,
}
_MEDIA_TYPES = {
    ".csv": "text/csv",
    ".tsv": "text/tab-separated-values",
    ".txt": "text/plain",
    ".log": "text/plain",
    ".md": "text/markdown",
    ".json": "application/json",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".svg": "image/svg+xml",
    ".pdf": "application/pdf",
    ".parquet": "application/vnd.apache.parquet",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def digest_for_audit(hexdigest: str) -> str:
    """A SHA-256 in groups of eight: a long run of digits in a bare hex digest can
    look like a national identifier to the audit log's guard."""
    return "-".join(hexdigest[i : i + 8] for i in range(0, len(hexdigest), 8))


def job_limits() -> dict[str, int]:
    """The limits a job gets now (recorded on the job, so a rerun shows what applied)."""
    return {
        "wall_seconds": int(settings.HDH_JOB_WALL_SECONDS),
        "cpu_seconds": int(settings.HDH_JOB_CPU_SECONDS),
        "memory_bytes": int(settings.HDH_JOB_MEMORY),
        "processes": int(settings.HDH_JOB_PROCESSES),
        "file_bytes": int(settings.HDH_JOB_FILE_BYTES),
        "log_bytes": int(settings.HDH_JOB_LOG_BYTES),
    }


# --- checks shared by the services ----------------------------------------------------
def ensure_open(workspace: Workspace, *, by: Any, action: str) -> None:
    """Refuse (and record the refusal) when the workspace no longer runs anything."""
    reason = policies.closed_reason(workspace)
    if reason is None:
        return
    with transaction.atomic():
        audit.record(
            action=action,
            by=by,
            target=workspace,
            outcome="denied",
            details={"reason": str(workspace.effective_state())},
        )
    raise InvalidState(reason)


def may_work(workspace: Workspace, *, by: Any, perm: Permission, refused_action: str) -> None:
    """Member (audited denial otherwise), workspace open, then the permission itself."""
    require_permission(by, Permission.WORKSPACE_ACCESS, workspace)
    ensure_open(workspace, by=by, action=refused_action)
    require_permission(by, perm, workspace)


def clean_name(name: Any, kind: str) -> str:
    if not isinstance(name, str) or not name:
        raise ValidationFailed(_("Indiquez le nom du script."), ["name"])
    if len(name) > NAME_LIMIT or not _NAME.fullmatch(name) or ".." in name:
        raise ValidationFailed(
            _(
                "Nom de script invalide : lettres, chiffres, « . », « _ » et « - » seulement, "
                "%(limit)s caractères au plus."
            )
            % {"limit": NAME_LIMIT},
            ["name"],
        )
    extension = EXTENSIONS[JobKind(kind)]
    if not name.lower().endswith(extension):
        raise ValidationFailed(
            _("Le nom d'un script %(kind)s se termine par %(ext)s.")
            % {"kind": JobKind(kind).label, "ext": extension},
            ["name"],
        )
    return name


def clean_script(script: Any) -> str:
    too_big = ValidationFailed(
        _("Le script dépasse %(limit)s octets.") % {"limit": SCRIPT_LIMIT}, ["script"]
    )
    not_utf8 = ValidationFailed(_("Le script n'est pas un texte encodé en UTF-8."), ["script"])
    if isinstance(script, bytes):
        if len(script) > SCRIPT_LIMIT:
            raise too_big
        try:
            text = script.decode("utf-8")
        except UnicodeDecodeError:
            raise not_utf8 from None
    elif isinstance(script, str):
        if len(script) > SCRIPT_LIMIT:
            raise too_big
        text = script
    else:
        raise ValidationFailed(_("Indiquez le script."), ["script"])
    if "\x00" in text:
        raise ValidationFailed(_("Le script contient un caractère NUL."), ["script"])
    try:
        encoded = text.encode("utf-8")
    except UnicodeEncodeError:
        raise not_utf8 from None
    if len(encoded) > SCRIPT_LIMIT:
        raise too_big
    if not text.strip():
        raise ValidationFailed(_("Le script est vide."), ["script"])
    return text


def _check_sandbox(workspace: Workspace, kind: str, by: Any) -> None:
    if kind != JobKind.PYTHON:
        return
    usable, reason = sandbox.sandbox_status()
    if usable:
        return
    with transaction.atomic():
        audit.record(
            action="workspace.job_refused",
            by=by,
            target=workspace,
            outcome="denied",
            details={"reason": "no_sandbox", "kind": kind},
        )
    raise InvalidState(
        _(
            "Les traitements Python sont indisponibles sur cette plateforme : aucun bac à "
            "sable isolé n'a pu être créé (%(reason)s). Les traitements SQL restent possibles."
        )
        % {"reason": reason[:200]}
    )


# --- submission ---------------------------------------------------------------------
def submit_job(*, workspace: Workspace, kind: str, name: str, script: Any, by: Any) -> Job:
    """Queue a script to run in the sandbox against the project's current dataset."""
    return _submit(workspace=workspace, kind=kind, name=name, script=script, by=by)


def _submit(
    *, workspace: Workspace, kind: Any, name: Any, script: Any, by: Any, rerun_of: Job | None = None
) -> Job:
    may_work(
        workspace, by=by, perm=Permission.WORKSPACE_RUN_JOB, refused_action="workspace.job_refused"
    )
    if kind not in JobKind.values:
        raise ValidationFailed(_("Type de traitement inconnu (Python ou SQL)."), ["kind"])
    name = clean_name(name, kind)
    text = clean_script(script)
    dataset = queries.current_dataset(workspace)
    if dataset is None:
        raise InvalidState(_("Aucun jeu de données préparé n'est disponible pour ce projet."))
    _check_sandbox(workspace, kind, by)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    # The task module runs these services: imported here, not at the top, to avoid a cycle.
    from hdh.workspace import tasks

    with transaction.atomic():
        locked = Workspace.objects.select_for_update().get(pk=workspace.pk)
        number = (Job.objects.filter(workspace=locked).aggregate(n=Max("number"))["n"] or 0) + 1
        with service_writes():
            job = Job.objects.create(
                workspace=locked,
                number=number,
                kind=kind,
                name=name,
                script=text,
                script_sha256=digest,
                dataset=dataset,
                limits=job_limits(),
                rerun_of=rerun_of,
                submitted_by=by,
                created_at=clock.now(),
            )
        storage.prepare_job_folder(locked.reference, number, kind, text)
        audit.record(
            action="workspace.job_submitted",
            by=by,
            target=locked,
            details={
                "job": number,
                "kind": kind,
                "script_sha256": digest_for_audit(digest),
                "bytes": len(text.encode("utf-8")),
                "dataset_version": dataset.version,
                "rerun_of": rerun_of.number if rerun_of is not None else None,
            },
        )
        tasks.enqueue(job)
    return job


def rerun_job(*, job: Job, by: Any) -> Job:
    """A new job with the same script, against the dataset current now."""
    may_work(
        job.workspace,
        by=by,
        perm=Permission.WORKSPACE_RUN_JOB,
        refused_action="workspace.job_refused",
    )
    policies.check_rerunnable(job)
    return _submit(
        workspace=job.workspace,
        kind=job.kind,
        name=job.name,
        script=job.script,
        by=by,
        rerun_of=job,
    )


def cancel_job(*, job: Job, by: Any) -> Job:
    """A queued job is cancelled at once; a running one is stopped by its worker."""
    workspace = job.workspace
    may_work(
        workspace, by=by, perm=Permission.WORKSPACE_RUN_JOB, refused_action="workspace.job_refused"
    )
    policies.check_cancellable(job)
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk)
        policies.check_cancellable(locked)
        with service_writes():
            if locked.status == JobStatus.QUEUED:
                _close(locked, JobStatus.CANCELLED, _("Annulé avant son démarrage."))
                action = "workspace.job_cancelled"
            else:
                locked.cancel_requested = True
                locked.save(update_fields=["cancel_requested"])
                action = "workspace.job_cancel_requested"
        audit.record(action=action, by=by, target=workspace, details={"job": locked.number})
    return locked


# --- execution (the worker) -----------------------------------------------------------
def _close(job: Job, status: str, message: str, exit_code: int | None = None) -> None:
    job.status = status
    job.message = message[:MESSAGE_LIMIT]
    job.exit_code = exit_code
    job.finished_at = clock.now()
    job.save(update_fields=["status", "message", "exit_code", "finished_at"])


def _is_stale(job: Job, now: dt.datetime) -> bool:
    beat = job.heartbeat_at or job.started_at
    return beat is None or now - beat >= STALE_AFTER


def _interrupt(job: Job) -> None:
    """Caller holds the row lock on a running job whose worker is gone."""
    # A SQL job killed while moving its results into place leaves its private
    # staging folder (see sqljob.run_script); nothing in it was recorded.
    outputs = storage.outputs_folder(job.workspace.reference, job.number)
    for staged in outputs.glob(".staging-*"):
        shutil.rmtree(staged, ignore_errors=True)
    with service_writes():
        _close(
            job,
            JobStatus.FAILED,
            _(
                "Interrompu : le service d'exécution s'est arrêté pendant le traitement. "
                "Relancez-le."
            ),
        )
    audit.record(
        action="workspace.job_finished",
        target=job.workspace,
        outcome="failure",
        details={"job": job.number, "status": JobStatus.FAILED, "interrupted": True},
    )


def _claim(job_id: int) -> Job | None:
    """Queued → running for this worker; None when there is nothing to run."""
    now = clock.now()
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            return None
        if job.status == JobStatus.RUNNING and _is_stale(job, now):
            _interrupt(job)
            return None
        if job.status != JobStatus.QUEUED:
            return None
        reason = policies.closed_reason(job.workspace)
        if reason is not None:
            with service_writes():
                _close(job, JobStatus.REFUSED, reason)
            audit.record(
                action="workspace.job_finished",
                target=job.workspace,
                outcome="denied",
                details={"job": job.number, "status": JobStatus.REFUSED},
            )
            return None
        with service_writes():
            job.status = JobStatus.RUNNING
            job.started_at = now
            job.heartbeat_at = now
            job.save(update_fields=["status", "started_at", "heartbeat_at"])
        audit.record(
            action="workspace.job_started", target=job.workspace, details={"job": job.number}
        )
    return job


class _Watch:
    """``should_cancel`` for the sandbox: reads the flag (cheaply, at most once a
    second) and beats, so a dead worker's job can be told from a live one."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.checked = float("-inf")
        self.beaten = time.monotonic()
        self.stop = False

    def __call__(self) -> bool:
        now = time.monotonic()
        if not self.stop and now - self.checked >= CANCEL_POLL_SECONDS:
            self.checked = now
            row = Job.objects.filter(pk=self.job_id).values_list("cancel_requested", "status")
            found = row.first()
            self.stop = found is None or bool(found[0]) or found[1] != JobStatus.RUNNING
        if now - self.beaten >= HEARTBEAT_SECONDS:
            self.beaten = now
            with service_writes():
                Job.objects.filter(pk=self.job_id, status=JobStatus.RUNNING).update(
                    heartbeat_at=clock.now()
                )
        return self.stop


def _limits(recorded: dict[str, Any]) -> sandbox.Limits:
    known = {field.name for field in dataclasses.fields(sandbox.Limits)}
    return sandbox.Limits(**{k: int(v) for k, v in recorded.items() if k in known})


def execute_job(job_id: int) -> Job:
    """Run a queued job to exactly one terminal state (the task body; safe to repeat)."""
    job = _claim(job_id)
    if job is None:
        return Job.objects.get(pk=job_id)
    reference = job.workspace.reference
    outputs = storage.outputs_folder(reference, job.number)
    try:
        if job.dataset is None:
            raise FileNotFoundError("no dataset")
        data = queries.dataset_folder(job.dataset)
        if not data.is_dir():
            raise FileNotFoundError("dataset folder missing")
        outputs.mkdir(parents=True, exist_ok=True)
        spec = sandbox.JobSpec(
            kind=str(job.kind),
            script=storage.script_path(reference, job.number, job.kind),
            data=data,
            outputs=outputs,
            log=storage.log_path(reference, job.number),
            limits=_limits(job.limits),
        )
        outcome = sandbox.run(
            spec, should_cancel=_Watch(job.pk), require_sandbox=job.kind == JobKind.PYTHON
        )
    except Exception as exc:
        # Only the exception's type: a message could quote the researcher's data.
        logger.error("workspace job %s failed to run: %s", job.pk, type(exc).__name__)
        outcome = sandbox.Outcome(
            status="failed",
            exit_code=None,
            message=_("Le traitement n'a pas pu être lancé (erreur interne : %(kind)s).")
            % {"kind": type(exc).__name__},
        )
    files: list[Any] = []
    problems: list[str] = []
    if outcome.status == "succeeded":
        try:
            files, problems = sandbox.collect_outputs(outputs)
        except OSError as exc:
            logger.error("workspace job %s: outputs unreadable: %s", job.pk, type(exc).__name__)
            outcome = sandbox.Outcome(
                status="failed",
                exit_code=outcome.exit_code,
                message=_("Les fichiers de sortie n'ont pas pu être relevés."),
            )
    return _record_outcome(job.pk, outcome, files, problems)


def media_type(name: str) -> str:
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in _MEDIA_TYPES:
        return _MEDIA_TYPES[suffix]
    guessed, _encoding = mimetypes.guess_type(name, strict=True)
    return guessed or "application/octet-stream"


def _record_outcome(
    job_id: int, outcome: sandbox.Outcome, files: list[Any], problems: list[str]
) -> Job:
    status = _STATUSES.get(outcome.status, JobStatus.FAILED)
    message = str(outcome.message or "")
    if problems:
        message = (
            f"{message} "
            + _("%(n)s fichier(s) de sortie ignoré(s) : %(list)s")
            % {"n": len(problems), "list": " ; ".join(str(p) for p in problems)}
        ).strip()
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.is_terminal:
            # Taken over meanwhile (marked interrupted): its one terminal state stands.
            return job
        workspace = job.workspace
        now = clock.now()
        with service_writes():
            for found in files:
                Output.objects.filter(
                    workspace=workspace, name=found.name, superseded_at__isnull=True
                ).update(superseded_at=now)
                Output.objects.create(
                    workspace=workspace,
                    job=job,
                    name=found.name,
                    path=storage.relative(found.path),
                    size=found.size,
                    sha256=found.sha256,
                    media_type=media_type(found.name),
                    created_at=now,
                )
            job.heartbeat_at = now
            job.save(update_fields=["heartbeat_at"])
            _close(job, status, message, outcome.exit_code)
        started = job.started_at or now
        audit.record(
            action="workspace.job_finished",
            target=workspace,
            outcome="success" if status == JobStatus.SUCCEEDED else "failure",
            details={
                "job": job.number,
                "status": status,
                "exit_code": outcome.exit_code,
                "outputs": len(files),
                "skipped": len(problems),
                "seconds": int((now - started).total_seconds()),
            },
        )
    return job


def recover_interrupted_jobs(*, now: dt.datetime | None = None) -> int:
    """Mark failed ("interrompu") every running job whose worker stopped beating."""
    now = now or clock.now()
    count = 0
    for job_id in Job.objects.filter(status=JobStatus.RUNNING).values_list("pk", flat=True):
        with transaction.atomic():
            job = Job.objects.select_for_update().get(pk=job_id)
            if job.status == JobStatus.RUNNING and _is_stale(job, now):
                _interrupt(job)
                count += 1
    return count


def cancel_for_closing(workspace: Workspace) -> int:
    """Cancel queued jobs and stop running ones of a workspace that stops running
    anything (caller holds the transaction and records the state change)."""
    count = 0
    with service_writes():
        for job in Job.objects.select_for_update().filter(
            workspace=workspace, status__in=(JobStatus.QUEUED, JobStatus.RUNNING)
        ):
            if job.status == JobStatus.QUEUED:
                _close(job, JobStatus.CANCELLED, _("Annulé : l'autorisation a pris fin."))
            else:
                job.cancel_requested = True
                job.save(update_fields=["cancel_requested"])
            count += 1
    return count
