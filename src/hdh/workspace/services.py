"""Every write of the workspace: opening it, console queries, output views, lifecycle.

Services take keyword-only arguments and the acting user (``by=``), check
permission on the workspace first (a non-member's denial is audited there),
then state, and record their audit event — always with the workspace as
target — in the same transaction as their change. Jobs live in
:mod:`hdh.workspace.jobs`; their services are re-exported here so that pages
have one module to call.

Nothing here ever puts a query's text, a script, a value or a file name of the
project's data into a log or the audit log: checksums, counts and durations.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import shutil
import time
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from hdh.access.models import Permit
from hdh.accounts.authorization import require_permission
from hdh.audit import services as audit
from hdh.core import clock
from hdh.core.errors import InvalidState, NotAllowed, ValidationFailed
from hdh.core.governance import service_writes
from hdh.core.permissions import Permission
from hdh.workspace import policies, previews, queries, storage
from hdh.workspace import sql as sql_engine
from hdh.workspace.jobs import (
    cancel_for_closing,
    cancel_job,
    digest_for_audit,
    ensure_open,
    execute_job,
    recover_interrupted_jobs,
    rerun_job,
    submit_job,
)
from hdh.workspace.models import Output, Workspace, WorkspaceState
from hdh.workspace.queries import (
    audit_trail,
    current_dataset,
    dataset_folder,
    reference_for,
    workspaces_of,
)

__all__ = [
    "ConsoleRefused",
    "OutputPreview",
    "audit_trail",
    "cancel_job",
    "current_dataset",
    "dataset_folder",
    "execute_job",
    "output_preview",
    "recover_interrupted_jobs",
    "rerun_job",
    "run_console_query",
    "submit_job",
    "sync_lifecycle",
    "workspace_by_reference",
    "workspace_for",
    "workspaces_of",
]

logger = logging.getLogger(__name__)
_REFERENCE = re.compile(rf"[A-Za-z0-9-]{{1,{queries.REFERENCE_LENGTH}}}")
# Re-hash an output before showing it when it is at most this big (larger: size only).
VERIFY_LIMIT = 50 * 1024**2


class ConsoleRefused(ValidationFailed):
    """The console refused or could not run a query; the message is for the page."""


# --- the workspace --------------------------------------------------------------------
def workspace_for(*, permit: Permit, by: Any) -> Workspace:
    """The permit's workspace, opened on first use by a member once data is prepared."""
    existing = Workspace.objects.select_related("permit", "project").filter(permit=permit).first()
    if existing is not None:
        require_permission(by, Permission.WORKSPACE_ACCESS, existing)
        return existing
    require_permission(by, Permission.WORKSPACE_ACCESS, permit)
    policies.check_permit_openable(permit)
    if not queries.current_dataset_of_permit_exists(permit):
        raise InvalidState(_("Les données du projet ne sont pas encore préparées."))
    try:
        with transaction.atomic():
            with service_writes():
                workspace = Workspace.objects.create(
                    reference=reference_for(permit),
                    project=permit.project,
                    permit=permit,
                    opened_at=clock.now(),
                )
            audit.record(
                action="workspace.opened",
                by=by,
                target=workspace,
                details={"permit": permit.reference, "members": len(permit.members)},
            )
    except IntegrityError:
        # Another request opened it first.
        workspace = Workspace.objects.get(permit=permit)
    storage.workspace_folder(workspace.reference).mkdir(parents=True, exist_ok=True, mode=0o750)
    return workspace


def workspace_by_reference(*, reference: str, by: Any) -> Workspace:
    """The workspace a page URL names, opening it for a member on first visit.

    Raises :class:`NotAllowed` (audited) for anyone else, and for a reference
    that names nothing, so that a page cannot tell the two apart.
    """
    if not isinstance(reference, str) or not _REFERENCE.fullmatch(reference):
        require_permission(by, Permission.WORKSPACE_ACCESS, None)
        raise NotAllowed("unknown workspace")
    found = Workspace.objects.select_related("permit", "project").filter(reference=reference)
    workspace = found.first()
    if workspace is not None:
        require_permission(by, Permission.WORKSPACE_ACCESS, workspace)
        return workspace
    prefix = queries.REFERENCE_PREFIX
    permit = None
    if reference.startswith(prefix):
        permit = (
            Permit.objects.select_related("application", "project")
            .filter(reference=reference[len(prefix) :])
            .first()
        )
    if permit is None:
        require_permission(by, Permission.WORKSPACE_ACCESS, None)
        raise NotAllowed("unknown workspace")
    return workspace_for(permit=permit, by=by)


# --- the SQL console ------------------------------------------------------------------
def run_console_query(*, workspace: Workspace, sql: str, by: Any) -> sql_engine.ConsoleResult:
    """Run one read-only query on the project's current dataset; audited by checksum."""
    return _console(workspace=workspace, text=sql, by=by)


def _console(*, workspace: Workspace, text: Any, by: Any) -> sql_engine.ConsoleResult:
    require_permission(by, Permission.WORKSPACE_ACCESS, workspace)
    ensure_open(workspace, by=by, action="workspace.query")
    require_permission(by, Permission.WORKSPACE_QUERY, workspace)
    if not isinstance(text, str):
        raise ConsoleRefused(_("Saisissez une requête SQL."))
    dataset = current_dataset(workspace)
    if dataset is None:
        raise InvalidState(_("Aucun jeu de données préparé n'est disponible pour ce projet."))
    encoded = text.encode("utf-8", errors="surrogatepass")
    details: dict[str, Any] = {
        "sha256": digest_for_audit(hashlib.sha256(encoded).hexdigest()),
        "chars": len(text),
        "dataset_version": dataset.version,
    }
    scratch = storage.scratch_folder(workspace.reference)
    started = time.monotonic()
    refusal: str | None = None
    result: sql_engine.ConsoleResult | None = None
    try:
        tables = sql_engine.dataset_tables(dataset_folder(dataset))
        result = sql_engine.run_query(text, tables=tables, temp_directory=scratch)
    except sql_engine.QueryRefused as exc:
        refusal = str(exc)
        details["outcome"] = str(getattr(exc, "kind", "") or "refused")[:40]
    except Exception as exc:
        logger.error("workspace console query failed: %s", type(exc).__name__)
        refusal = _("La requête n'a pas pu être exécutée (erreur interne : %(kind)s).") % {
            "kind": type(exc).__name__
        }
        details["outcome"] = "error"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if result is not None:
        details.update(
            outcome="success",
            duration_ms=int(result.duration_ms),
            rows=len(result.rows),
            truncated=bool(result.truncated),
        )
    else:
        details["duration_ms"] = int((time.monotonic() - started) * 1000)
    with transaction.atomic():
        audit.record(
            action="workspace.query",
            by=by,
            target=workspace,
            outcome="success" if refusal is None else "denied",
            details=details,
        )
    if refusal is not None or result is None:
        raise ConsoleRefused(refusal or _("La requête n'a pas pu être exécutée."))
    return result


# --- outputs --------------------------------------------------------------------------
@dataclass
class OutputPreview:
    output: Output
    preview: previews.Preview


def output_preview(*, output: Output, by: Any) -> OutputPreview:
    """What the page shows of an output (no download: the airlock is the only exit)."""
    workspace = output.workspace
    require_permission(by, Permission.WORKSPACE_ACCESS, workspace)
    try:
        path = storage.stored(output.path)
        size = path.stat().st_size
        intact = size == output.size
        if intact and size <= VERIFY_LIMIT:
            intact = _sha256(path) == output.sha256
    except (OSError, storage.UnsafePath):
        intact = False
    if intact:
        shown = previews.preview_file(path, output.name, size)
    else:
        shown = previews.Preview(
            kind="none",
            note=_("Le fichier ne correspond plus à celui que le traitement a écrit."),
        )
    with transaction.atomic():
        audit.record(
            action="workspace.output_viewed",
            by=by,
            target=workspace,
            outcome="success" if intact else "failure",
            details={"job": output.job.number, "output": output.pk, "kind": shown.kind},
        )
    return OutputPreview(output=output, preview=shown)


def _sha256(path: Any) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


# --- lifecycle ------------------------------------------------------------------------
def sync_lifecycle(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Record what the permits' dates impose: read-only after the end, then archived.

    Idempotent; each change is audited. Queued jobs of a workspace that turns
    read-only are cancelled and running ones asked to stop.
    """
    today = (now or clock.now()).astimezone(dt.UTC).date()
    counts = {"read_only": 0, "archived": 0, "jobs_stopped": 0}
    pending = Workspace.objects.exclude(state=WorkspaceState.ARCHIVED).values_list("pk", flat=True)
    for workspace_id in pending:
        with transaction.atomic():
            workspace = Workspace.objects.select_for_update().get(pk=workspace_id)
            imposed = workspace.effective_state(today)
            # Only forward: open → read-only → archived.
            if imposed in (workspace.state, WorkspaceState.OPEN):
                continue
            at = clock.now()
            with service_writes():
                if workspace.state == WorkspaceState.OPEN:
                    workspace.read_only_at = at
                    counts["read_only"] += 1
                    stopped = cancel_for_closing(workspace)
                    counts["jobs_stopped"] += stopped
                    audit.record(
                        action="workspace.read_only",
                        target=workspace,
                        details={
                            "end_date": workspace.permit.end_date.isoformat(),
                            "jobs": stopped,
                        },
                    )
                if imposed == WorkspaceState.ARCHIVED:
                    workspace.archived_at = at
                    counts["archived"] += 1
                    audit.record(action="workspace.archived", target=workspace)
                workspace.state = imposed
                workspace.save(update_fields=["state", "read_only_at", "archived_at"])
    return counts
