"""A generated catalog for load tests: many bases whose dictionaries reuse the SNDS's
own variable names and descriptions, so terms are distributed as in real metadata.

Each base goes through the real import service, like a producer's folder would.
"""

from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path
from typing import Any

from hdh.catalog.demo import SNDS_SCHEMA
from hdh.catalog.models import Base
from hdh.catalog.services.bases import create_base
from hdh.catalog.services.dictionary import import_tableschema
from hdh.catalog.vocabularies import HealthCategory, MedicalDomain

HOLDERS = (
    "Cnam",
    "Santé publique France",
    "Inserm",
    "ATIH",
    "AP-HP",
    "CHU de Bordeaux",
    "Registre des cancers",
    "Cohorte Constances",
    "DREES",
    "Agence de la biomédecine",
)
PRODUCTS = (
    "Hospitalisation",
    "Consultations",
    "Médicaments",
    "Biologie",
    "Imagerie",
    "Urgences",
    "Décès",
    "Vaccination",
)


def _sample_fields() -> list[dict[str, Any]]:
    fields: list[dict[str, Any]] = []
    for path in sorted(Path(SNDS_SCHEMA, "schemas").rglob("*.json")):
        for field in json.loads(path.read_text(encoding="utf-8"))["fields"]:
            fields.append(
                {key: field[key] for key in ("name", "description", "type") if key in field}
            )
    return fields


def generate(*, bases: int, tables_per_base: int, variables_per_table: int, seed: int = 1) -> int:
    """Create ``bases`` synthetic bases (slugs ``synthetique-N``); returns variables made."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not a secret  # nosec B311
    fields = _sample_fields()
    first = Base.objects.filter(slug__startswith="synthetique-").count() + 1
    made = 0
    for number in range(first, first + bases):
        base = create_base(
            slug=f"synthetique-{number}",
            by=None,
            title=f"Base synthétique {number} : {rng.choice(PRODUCTS).lower()}",
            acronym=f"SYN{number}",
            description="Base générée pour les essais de charge du catalogue.",
            health_category=rng.choice(HealthCategory.values),
            medical_domain=rng.choice(MedicalDomain.values),
            data_holder=rng.choice(HOLDERS),
            contact_email="essais@example.org",
        )
        with tempfile.TemporaryDirectory() as folder:
            for t in range(tables_per_base):
                product = rng.choice(PRODUCTS)
                chosen: dict[str, dict[str, Any]] = {}
                while len(chosen) < variables_per_table:
                    field = dict(rng.choice(fields))
                    field["name"] = f"{field['name']}_{len(chosen)}"
                    chosen[field["name"]] = field
                path = Path(folder, "schemas", product, f"T{number}_{t}.json")
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(
                    json.dumps(
                        {
                            "name": f"T{number}_{t}",
                            "title": f"Table {t} ({product})",
                            "produit": product,
                            "fields": list(chosen.values()),
                        }
                    ),
                    encoding="utf-8",
                )
            import_tableschema(directory=folder, base=base, by=None)
        made += tables_per_base * variables_per_table
    return made
