"""The vocabulary of the guichet: states, legal routes, who holds the file, stages."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class State(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    SUBMITTED = "submitted", _("Déposée")
    ADMISSIBILITY = "admissibility", _("Examen de recevabilité")
    RETURNED = "returned", _("Renvoyée au demandeur")
    SCIENTIFIC_REVIEW = "scientific_review", _("Avis scientifique et éthique")
    REGULATOR_REVIEW = "regulator_review", _("Décision de l'autorité")
    AUTHORISED = "authorised", _("Autorisée")
    CONTRACT_SIGNED = "contract_signed", _("Convention signée")
    DATA_PREPARATION = "data_preparation", _("Préparation des données")
    WORKSPACE_OPEN = "workspace_open", _("Espace projet ouvert")
    CLOSED = "closed", _("Clôturée")
    WITHDRAWN = "withdrawn", _("Retirée")
    REFUSED = "refused", _("Refusée")


FINAL_STATES = frozenset({State.CLOSED, State.WITHDRAWN, State.REFUSED})


class LegalRoute(models.TextChoices):
    """How the law lets this project reach the data (SNDS: CSP L.1461-3, CNIL MR)."""

    STANDARD = "standard", _("Autorisation (avis du comité puis décision de l'autorité)")
    MR004 = "mr004", _("Déclaration de conformité MR-004")
    MR005 = "mr005", _("Déclaration de conformité MR-005")
    MR006 = "mr006", _("Déclaration de conformité MR-006")
    MR007 = "mr007", _("Déclaration de conformité MR-007")
    MR008 = "mr008", _("Déclaration de conformité MR-008")
    FAST_TRACK = "fast_track", _("Accès simplifié à un échantillon")


ALL_ROUTES = frozenset(LegalRoute)
# MR-004 to MR-006 and the sample fast track need neither the committee nor the
# regulator: the guichet checks the declaration and registers the project.
DECLARATION_ONLY = frozenset(
    {LegalRoute.MR004, LegalRoute.MR005, LegalRoute.MR006, LegalRoute.FAST_TRACK}
)
# MR-007 and MR-008 need an expressly favourable committee opinion, no regulator.
OPINION_ONLY = frozenset({LegalRoute.MR007, LegalRoute.MR008})


class Holder(models.TextChoices):
    """Who holds the file: whose move it is."""

    APPLICANT = "applicant", _("Demandeur")
    PLATFORM = "platform", _("Guichet")
    REVIEWER = "reviewer", _("Comité scientifique et éthique")
    REGULATOR = "regulator", _("Autorité de régulation")
    DATA_HOLDER = "data_holder", _("Responsable des données")
    PROJECT = "project", _("Équipe projet")
    NOBODY = "nobody", _("Personne")


class Stage(models.TextChoices):
    """The stages that carry a deadline. Several states may share one stage."""

    ADMISSIBILITY = "admissibility", _("Recevabilité")
    OPINION = "opinion", _("Avis du comité")
    DECISION = "decision", _("Décision de l'autorité")
    CONTRACT = "contract", _("Convention")
    PREPARATION = "preparation", _("Préparation des données")


class Kind(models.TextChoices):
    INITIAL = "initial", _("Demande initiale")
    AMENDMENT = "amendment", _("Modification")
    RENEWAL = "renewal", _("Renouvellement")
