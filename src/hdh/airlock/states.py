"""The airlock's vocabulary: request states, who acts in each, file kinds, votes."""

from __future__ import annotations

import enum

from django.db import models
from django.utils.translation import gettext_lazy as _


class State(models.TextChoices):
    PENDING = "pending", _("En préparation")
    SUBMITTED = "submitted", _("Soumise")
    PARTIALLY_REVIEWED = "partially_reviewed", _("Examinée une fois")
    REVIEWED = "reviewed", _("Examinée deux fois")
    RETURNED = "returned", _("Renvoyée au demandeur")
    APPROVED = "approved", _("Approuvée")
    RELEASED = "released", _("Sortie")
    REJECTED = "rejected", _("Refusée")
    WITHDRAWN = "withdrawn", _("Retirée")


FINAL_STATES = frozenset({State.RELEASED, State.REJECTED, State.WITHDRAWN})
# The requester may change files and groups only in these states.
EDITABLE_STATES = frozenset({State.PENDING, State.RETURNED})
# Checkers vote while the request is in their hands.
UNDER_REVIEW = frozenset({State.SUBMITTED, State.PARTIALLY_REVIEWED, State.REVIEWED})


class Actor(enum.StrEnum):
    """Who makes a move: the project side, an output checker, or the platform."""

    REQUESTER = "requester"
    CHECKER = "checker"
    SYSTEM = "system"


# Whose move it is in each state (a test checks every state has one).
OWNERS: dict[State, Actor] = {
    State.PENDING: Actor.REQUESTER,
    State.RETURNED: Actor.REQUESTER,
    State.SUBMITTED: Actor.CHECKER,
    State.PARTIALLY_REVIEWED: Actor.CHECKER,
    State.REVIEWED: Actor.CHECKER,
    State.APPROVED: Actor.SYSTEM,
    State.RELEASED: Actor.SYSTEM,
    State.REJECTED: Actor.SYSTEM,
    State.WITHDRAWN: Actor.SYSTEM,
}


class FileKind(models.TextChoices):
    OUTPUT = "output", _("Résultat à sortir")
    SUPPORTING = "supporting", _("Pièce justificative (jamais sortie)")


class Vote(models.TextChoices):
    APPROVED = "approved", _("Approuvé")
    CHANGES_REQUESTED = "changes_requested", _("Modifications demandées")
    REJECTED = "rejected", _("Refusé")


class FileDecision(models.TextChoices):
    """What the submitted reviews of a turn say about one output file."""

    INCOMPLETE = "incomplete", _("Examen incomplet")
    APPROVED = "approved", _("Approuvé")
    CONFLICTED = "conflicted", _("Avis divergents")
    CHANGES_REQUESTED = "changes_requested", _("Modifications demandées")
    REJECTED = "rejected", _("Refusé")


class Visibility(models.TextChoices):
    PRIVATE = "private", _("Privé (contrôleurs seulement)")
    PUBLIC = "public", _("Public (visible du demandeur)")


class CheckStatus(models.TextChoices):
    """The automated checks' verdict on one file."""

    PASS = "pass", _("Conforme")
    REVIEW = "review", _("À examiner")
    FAIL = "fail", _("Non conforme")
    BLOCKED = "blocked", _("Refusé : ne peut pas être soumis")
