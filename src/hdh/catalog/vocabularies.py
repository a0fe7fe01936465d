"""Controlled vocabularies of a catalog entry, with the IRIs they export to.

The medical domains are the Health Data Hub's list (catalogue de métadonnées,
bibliothèque ouverte d'algorithmes); the health categories are the 17 EHDS
article 51 categories as HealthDCAT-AP codes them; access rights and update
frequencies are the EU publications office authority tables.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

EU_AUTHORITY = "http://publications.europa.eu/resource/authority/"
HEALTH_CATEGORY_BASE = "http://healthdataportal.eu/resource/authority/healthcategories/"


class MedicalDomain(models.TextChoices):
    CANCERS = "cancers", _("Cancers")
    CARDIOVASCULAR = "cardiovascular", _("Maladies cardio-vasculaires")
    DIABETES = "diabetes", _("Diabète")
    NEURODEGENERATIVE = "neurodegenerative", _("Maladies neurodégénératives")
    MENTAL_HEALTH = "mental_health", _("Santé mentale et Psychiatrie")
    PERINATAL = "perinatal", _("Périnatalité et Santé reproductive")
    RESPIRATORY = "respiratory", _("Maladies respiratoires")
    INFECTIOUS = "infectious", _("Maladies infectieuses")
    PAEDIATRICS = "paediatrics", _("Enfants et Pédiatrie")
    GERIATRICS = "geriatrics", _("Personnes âgées et Gériatrie")
    OTHER = "other", _("Autre")


class HealthCategory(models.TextChoices):
    EHRS = "EHRS", _("Données des dossiers de santé électroniques")
    DIOH = "DIOH", _("Déterminants de la santé")
    NRPE = "NRPE", _("Besoins et ressources de santé agrégés")
    RPDG = "RPDG", _("Pathogènes")
    HRAD = "HRAD", _("Données administratives, de remboursement et de facturation")
    HGPD = "HGPD", _("Données génétiques et génomiques")
    HPML = "HPML", _("Autres données omiques")
    PGEH = "PGEH", _("Données issues de dispositifs médicaux personnels")
    WELA = "WELA", _("Applications de bien-être")
    IDHP = "IDHP", _("Données sur les professionnels de santé")
    PHDR = "PHDR", _("Registres de population")
    MRMR = "MRMR", _("Registres médicaux et de mortalité")
    EHCT = "EHCT", _("Essais cliniques")
    EMRD = "EMRD", _("Autres données de dispositifs médicaux")
    RMMD = "RMMD", _("Registres de produits et dispositifs")
    RQSH = "RQSH", _("Cohortes et enquêtes")
    EINS = "EINS", _("Biobanques")


class AccessRights(models.TextChoices):
    PUBLIC = "PUBLIC", _("Public")
    RESTRICTED = "RESTRICTED", _("Restreint")
    NON_PUBLIC = "NON_PUBLIC", _("Non public")


class UpdateFrequency(models.TextChoices):
    CONTINUOUS = "CONT", _("En continu")
    DAILY = "DAILY", _("Quotidienne")
    WEEKLY = "WEEKLY", _("Hebdomadaire")
    MONTHLY = "MONTHLY", _("Mensuelle")
    QUARTERLY = "QUARTERLY", _("Trimestrielle")
    ANNUAL = "ANNUAL", _("Annuelle")
    IRREGULAR = "IRREG", _("Irrégulière")
    NEVER = "NEVER", _("Aucune mise à jour")
    UNKNOWN = "UNKNOWN", _("Inconnue")


class BaseKind(models.TextChoices):
    MAIN = "main", _("Base principale du SNDS")
    CATALOGUE = "catalogue", _("Base du catalogue")
    REGISTRY = "registry", _("Registre")
    COHORT = "cohort", _("Cohorte")
    WAREHOUSE = "warehouse", _("Entrepôt de données de santé")
    SURVEY = "survey", _("Enquête")


def access_rights_iri(value: str) -> str:
    return f"{EU_AUTHORITY}access-right/{value}"


def frequency_iri(value: str) -> str:
    return f"{EU_AUTHORITY}frequency/{value}"


def health_category_iri(value: str) -> str:
    return f"{HEALTH_CATEGORY_BASE}{value}"
