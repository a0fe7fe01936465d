"""Factories for the catalog. Bases are created through the service (audited, indexed)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from hdh.catalog.models import Base, DictionaryVersion
from hdh.catalog.services.bases import create_base
from hdh.catalog.services.dictionary import import_tableschema

_sequence = itertools.count(1)


def base_values(**overrides: Any) -> dict[str, Any]:
    n = next(_sequence)
    values: dict[str, Any] = {
        "slug": f"base-de-test-{n}",
        "title": f"Base de test {n}",
        "acronym": f"BT{n}",
        "description": "Une base décrite pour les tests.",
        "health_category": "EHRS",
        "data_holder": "Producteur de test",
        "contact_email": "contact@example.org",
    }
    values.update(overrides)
    return values


def create_test_base(*, by: Any = None, **overrides: Any) -> Base:
    values = base_values(**overrides)
    return create_base(by=by, **values)


def write_folder(
    root: Path,
    tables: dict[str, dict[str, Any]],
    code_lists: dict[str, tuple[dict[str, Any], str]] | None = None,
) -> Path:
    """A Table Schema folder: ``schemas/<product>/<name>.json`` and code lists."""
    for name, descriptor in tables.items():
        product = descriptor.get("produit", "TEST")
        path = root / "schemas" / product / f"{name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"name": name, **descriptor}), encoding="utf-8")
    for name, (descriptor, rows) in (code_lists or {}).items():
        path = root / "nomenclatures" / "TEST" / f"{name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"name": name, **descriptor}), encoding="utf-8")
        path.with_suffix(".csv").write_text(rows, encoding="utf-8")
    return root


def small_folder(root: Path) -> Path:
    """Two related tables and one code list."""
    return write_folder(
        root,
        {
            "PATIENT": {
                "title": "Patients",
                "primaryKey": ["PAT_ID"],
                "fields": [
                    {
                        "name": "PAT_ID",
                        "description": "Identifiant pseudonymisé",
                        "type": "string",
                        "pseudonym": True,
                    },
                    {
                        "name": "PAT_SEX",
                        "description": "Sexe du patient",
                        "type": "integer",
                        "nomenclature": "SEXE",
                    },
                ],
            },
            "SEJOUR": {
                "title": "Séjours hospitaliers",
                "fields": [
                    {"name": "PAT_ID", "description": "Identifiant du patient", "type": "string"},
                    {"name": "SEJ_DTE", "description": "Date d'entrée", "type": "date"},
                ],
                "foreignKeys": [
                    {"fields": "PAT_ID", "reference": {"resource": "PATIENT", "fields": "PAT_ID"}}
                ],
            },
        },
        {
            "SEXE": (
                {
                    "title": "Sexe",
                    "fields": [{"name": "COD", "role": "code"}, {"name": "LIB", "role": "label"}],
                },
                "COD;LIB\n1;Masculin\n2;Féminin\n9;Inconnu\n",
            )
        },
    )


def import_small(base: Base, root: Path, *, by: Any = None) -> DictionaryVersion:
    return import_tableschema(directory=small_folder(root), base=base, by=by)
