"""Demo catalog: the SNDS with its full public dictionary, and catalogue bases.

Facts come from public descriptions (Health Data Hub catalogue and
presentations, Santé publique France, schema-snds); no figure is invented, so
counts the sources do not give are left empty.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.db.models import F

from hdh.catalog.models import Base, Table, Variable
from hdh.catalog.services.bases import create_base
from hdh.catalog.services.dictionary import import_tableschema
from hdh.catalog.vocabularies import BaseKind, MedicalDomain, UpdateFrequency

DATA = Path(__file__).resolve().parent / "data"
SNDS_SCHEMA = DATA / "schema-snds"
OSCOUR_SCHEMA = DATA / "oscour-demo"
HDH = {"hdab_name": "Health Data Hub", "hdab_email": "contact@health-data-hub.fr"}

BASES: list[dict[str, Any]] = [
    {
        "slug": "snds",
        "title": "Système national des données de santé",
        "acronym": "SNDS",
        "kind": BaseKind.MAIN,
        "health_category": "HRAD",
        "medical_domain": MedicalDomain.OTHER,
        "data_holder": "Caisse nationale de l'Assurance Maladie (Cnam)",
        "contact_email": "contact@health-data-hub.fr",
        "description": (
            "Base principale du SNDS : données de remboursement de l'Assurance Maladie "
            "(SNIIRAM, dont le DCIR), données hospitalières du PMSI (MCO, SSR, HAD, "
            "RIM-P), causes médicales de décès (CépiDc) et données relatives au handicap. "
            "Le dictionnaire publié ici est la description publique du SNDS "
            "(schema-snds) : tables, variables, clés et nomenclatures."
        ),
        "keywords": ["remboursements", "hospitalisations", "PMSI", "DCIR", "SNIIRAM"],
        "coding_systems": ["CIM-10", "CCAM", "ATC", "CIP13", "GHM"],
        "legal_basis": "Code de la santé publique, articles L.1461-1 et suivants.",
        "spatial_coverage": "France",
        "population_coverage": "Bénéficiaires de l'assurance maladie obligatoire.",
        "update_frequency": UpdateFrequency.ANNUAL,
        "retention_period": "19 ans plus l'année en cours, puis archivage 10 ans",
        "homepage": "https://documentation-snds.health-data-hub.fr/",
        **HDH,
    },
    {
        "slug": "oscour",
        "title": "Organisation de la surveillance coordonnée des urgences",
        "acronym": "OSCOUR",
        "kind": BaseKind.CATALOGUE,
        "health_category": "EHRS",
        "medical_domain": MedicalDomain.OTHER,
        "data_holder": "Santé publique France",
        "contact_email": "contact@health-data-hub.fr",
        "hdh_reference": "",
        "description": (
            "La base de données OSCOUR contient l'ensemble des passages aux urgences en "
            "France métropolitaine et outre-mer. L'objectif principal de ce système est la "
            "détection précoce d'événements sanitaires inhabituels. Il est également utilisé "
            "pour le suivi des épidémies de pathologies saisonnières."
        ),
        "objective": (
            "Détection précoce d'événements sanitaires inhabituels et suivi des épidémies "
            "saisonnières, à partir des résumés de passage aux urgences (RPU)."
        ),
        "keywords": ["passages aux urgences", "suivi épidémies"],
        "coding_systems": ["CIM-10", "CCMU"],
        "funding": "Public",
        "legal_basis": (
            "Transmission des résumés de passage aux urgences obligatoire depuis l'arrêté "
            "du 24 juillet 2013."
        ),
        "population_coverage": "93,3 % des passages aux urgences en 2021.",
        "update_frequency": UpdateFrequency.DAILY,
        "homepage": (
            "https://www.santepubliquefrance.fr/surveillance-syndromique-sursaud-R/"
            "reseau-oscour-R-organisation-de-la-surveillance-coordonnee-des-urgences"
        ),
        **HDH,
    },
    {
        "slug": "esnd",
        "title": "Échantillon du SNDS (anciennement Échantillon généraliste des bénéficiaires)",
        "acronym": "ESND",
        "kind": BaseKind.MAIN,
        "health_category": "HRAD",
        "medical_domain": MedicalDomain.OTHER,
        "data_holder": "Caisse nationale de l'Assurance Maladie (Cnam)",
        "contact_email": "contact@health-data-hub.fr",
        "description": (
            "Échantillon permanent représentatif des bénéficiaires de l'assurance maladie, "
            "qui a succédé à l'EGB. Ses tables (produit EGB) sont décrites dans le "
            "dictionnaire du SNDS."
        ),
        "keywords": ["échantillon", "EGB", "bénéficiaires"],
        "coding_systems": ["CIM-10", "CCAM", "ATC"],
        "population_coverage": "Échantillon des bénéficiaires de l'assurance maladie.",
        **HDH,
    },
    {
        "slug": "cepidc",
        "title": "Causes médicales de décès",
        "acronym": "CépiDc",
        "kind": BaseKind.MAIN,
        "health_category": "MRMR",
        "medical_domain": MedicalDomain.OTHER,
        "data_holder": "Inserm - CépiDc",
        "contact_email": "contact@health-data-hub.fr",
        "description": (
            "Causes médicales de décès issues des certificats de décès, intégrées à la base "
            "principale du SNDS (tables KI_CCI_R et KI_ECD_R du dictionnaire du SNDS)."
        ),
        "keywords": ["mortalité", "causes de décès", "certificats de décès"],
        "coding_systems": ["CIM-10"],
        "temporal_start": dt.date(2006, 1, 1),
        **HDH,
    },
    {
        "slug": "bndmr",
        "title": "Banque nationale de données maladies rares",
        "acronym": "BNDMR",
        "kind": BaseKind.REGISTRY,
        "health_category": "MRMR",
        "medical_domain": MedicalDomain.OTHER,
        "data_holder": "BNDMR - Assistance Publique-Hôpitaux de Paris",
        "contact_email": "contact@health-data-hub.fr",
        "description": (
            "Données de prise en charge des patients atteints de maladies rares recueillies "
            "par les centres de référence et de compétence. Une opposition vaut pour "
            "toutes les études ; les données restent utilisées pour le pilotage des "
            "politiques publiques."
        ),
        "keywords": ["maladies rares", "centres de référence"],
        "coding_systems": ["ORPHA"],
        "homepage": "http://www.bndmr.fr/",
        **HDH,
    },
]
DICTIONARIES = {"snds": SNDS_SCHEMA, "oscour": OSCOUR_SCHEMA}


def load() -> str:
    """Create the demo bases and import their dictionaries, once; a one-line summary."""
    for values in BASES:
        values = dict(values)
        slug = values.pop("slug")
        base = Base.objects.filter(slug=slug).first()
        if base is None:
            base = create_base(slug=slug, by=None, **values)
        folder = DICTIONARIES.get(slug)
        if folder is not None and base.current_version_id is None:
            import_tableschema(directory=folder, base=base, by=None)
    current = Table.objects.filter(version__base__current_version=F("version"))
    tables = current.count()
    variables = Variable.objects.filter(table__in=current).count()
    return f"{Base.objects.count()} bases, {tables} tables, {variables} variables"
