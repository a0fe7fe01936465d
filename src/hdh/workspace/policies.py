"""What a workspace allows in which state (people are answered by ``has_permission``)."""

from __future__ import annotations

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from hdh.access.models import Permit
from hdh.access.states import State
from hdh.core.errors import InvalidState
from hdh.workspace.models import Job, JobStatus, Workspace, WorkspaceState

# An application in one of these states has a permit a workspace may serve.
OPENABLE_STATES = frozenset({State.CONTRACT_SIGNED, State.DATA_PREPARATION, State.WORKSPACE_OPEN})


def closed_reason(workspace: Workspace) -> str | None:
    """Why nothing new may run in ``workspace`` (None while it is open)."""
    state = workspace.effective_state()
    if state == WorkspaceState.OPEN:
        return None
    if state == WorkspaceState.ARCHIVED:
        return _("L'espace projet est archivé.")
    permit = workspace.permit
    ended = permit.end_date
    if permit.closed_at is not None:
        ended = min(ended, permit.closed_at.date())
    return _(
        "L'espace projet est en lecture seule : l'autorisation a pris fin le %(date)s. "
        "Les sorties restent consultables ; aucune requête ni aucun traitement ne peut "
        "plus être lancé."
    ) % {"date": date_format(ended, "DATE_FORMAT")}


def check_open(workspace: Workspace) -> None:
    reason = closed_reason(workspace)
    if reason is not None:
        raise InvalidState(reason)


def check_permit_openable(permit: Permit) -> None:
    if permit.application.state not in OPENABLE_STATES or not permit.is_active():
        raise InvalidState(_("Cette autorisation n'ouvre pas (ou plus) d'espace projet."))


def check_cancellable(job: Job) -> None:
    if job.is_terminal:
        raise InvalidState(_("Ce traitement est terminé."))


def check_rerunnable(job: Job) -> None:
    if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        raise InvalidState(_("Ce traitement n'est pas terminé : attendez sa fin ou annulez-le."))
