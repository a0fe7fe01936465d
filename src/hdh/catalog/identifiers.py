"""Which variables identify people, so the catalog can say so and preparation can act on it.

A Table Schema field may say it outright (``"directIdentifier": true``,
``"potentialIdentifier": true``, ``"pseudonym": true``). Otherwise the SNDS rules
apply: pseudonymised beneficiary numbers (BEN_NIR_PSA, BEN_NIR_ANO, BEN_IDT_ANO,
NIR_ANO_17…) are pseudonyms; the Cnam export guide's potential identifiers are
the commune of residence or death, the month of birth, and full dates (of care,
of death).
"""

from __future__ import annotations

import re
from typing import Any

from hdh.catalog.search.text import fold

_PSEUDONYM = re.compile(r"(NIR_(PSA|ANO)|IDT_ANO|NIR_ANO)", re.IGNORECASE)
_DIRECT = re.compile(r"^(NIR|NIR_CLE|NOM|PRENOM|NOM_NAISSANCE|ADRESSE)$", re.IGNORECASE)
_POTENTIAL_NAME = re.compile(r"(RES_COM|NAI_MOI|NAI_ANM|DCD_COM|DCD_DTE)", re.IGNORECASE)
_POTENTIAL_TEXT = (
    "commune de residence",
    "commune de deces",
    "mois de naissance",
    "date de deces",
    "date de naissance",
)


def flags(field: dict[str, Any]) -> tuple[bool, bool, bool]:
    """(direct identifier, potential identifier, pseudonym) for a Table Schema field."""
    name = str(field.get("name", ""))
    description = fold(str(field.get("description", "")))
    pseudonym = bool(field.get("pseudonym", False)) or bool(_PSEUDONYM.search(name))
    direct = bool(field.get("directIdentifier", False)) or (
        not pseudonym and bool(_DIRECT.match(name))
    )
    potential = (
        bool(field.get("potentialIdentifier", False))
        or bool(_POTENTIAL_NAME.search(name))
        or any(phrase in description for phrase in _POTENTIAL_TEXT)
        or field.get("type") in {"date", "datetime"}
    )
    return direct, potential and not direct, pseudonym
