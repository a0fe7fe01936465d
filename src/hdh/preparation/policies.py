"""What preparation allows in which state (people are answered by ``has_permission``)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from hdh.access.models import Permit
from hdh.access.states import State
from hdh.core.errors import InvalidState
from hdh.preparation.models import ExtractionPlan, PlanStatus, PreparationRun

PREPARABLE_STATES = frozenset({State.CONTRACT_SIGNED, State.DATA_PREPARATION, State.WORKSPACE_OPEN})


def check_permit_preparable(permit: Permit) -> None:
    if not permit.is_active():
        raise InvalidState(_("L'autorisation est close ou expirée."))
    if permit.application.state not in PREPARABLE_STATES:
        raise InvalidState(_("La convention n'est pas encore signée."))


def check_plan_editable(plan: ExtractionPlan) -> None:
    if plan.status != PlanStatus.DRAFT:
        raise InvalidState(_("Seul un plan en brouillon se modifie ; créez-en un nouveau."))


def check_plan_runnable(plan: ExtractionPlan) -> None:
    if plan.status != PlanStatus.APPROVED:
        raise InvalidState(_("Le plan doit être approuvé avant d'être exécuté."))
    check_permit_preparable(plan.permit)


def check_cancellable(run: PreparationRun) -> None:
    if run.is_terminal:
        raise InvalidState(_("Cette exécution est terminée."))
