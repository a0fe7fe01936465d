"""Demo: an authorised SNDS application whose contract is signed, ready to prepare.

demo-data-engineer finds it under "Préparation des données". Two demo people
have objected (they will be absent from the dataset); the output lists a few
synthetic identities (NIR, birth date, sex) so that the objection path can be
tried as a citizen. They are synthetic: no real person has them.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
from django.conf import settings

from hdh.access.demo import Study, file_and_authorise
from hdh.access.models import Application
from hdh.accounts.demo import create_demo_accounts
from hdh.accounts.models import User
from hdh.catalog.models import Base
from hdh.preparation import objections

TITLE = "Parcours de soins du diabète de type 2 (préparation des données)"
PERIMETER = {
    "IR_BEN_R": ["BEN_NIR_PSA", "BEN_RNG_GEM", "BEN_SEX_COD", "BEN_NAI_ANN", "BEN_RES_DPT"],
    "ER_PRS_F": ["BEN_NIR_PSA", "BEN_RNG_GEM", "EXE_SOI_DTD", "PRS_NAT_REF", "PRS_ACT_QTE"],
    "T_MCOaaC": ["NIR_ANO_17", "ETA_NUM", "RSA_NUM", "EXE_SOI_DTD", "EXE_SOI_DTF"],
    "T_MCOaaB": ["ETA_NUM", "RSA_NUM", "DGN_PAL", "GRG_GHM", "SEJ_NBJ"],
}
OBJECTORS = 2
SHOWN = 3


def _user(username: str) -> User:
    return User.objects.get(username=username)


STUDY = Study(
    title=TITLE,
    lay_summary="Décrire les soins des personnes diabétiques au cours de l'année 2023.",
    technical_summary="Cohorte rétrospective sur le DCIR et le PMSI MCO.",
    purpose="Décrire les parcours de soins du diabète de type 2.",
    public_interest="Améliorer la prise en charge du diabète.",
    implementer_name="Équipe d'épidémiologie (démonstration)",
    expected_outputs="Indicateurs agrégés.",
    population_criteria="Femmes nées avant 1980 hospitalisées pour un diabète (CIM-10 E11).",
    justification="Nécessaire pour décrire les parcours de soins.",
    perimeter=PERIMETER,
)


def _identities() -> list[dict[str, object]]:
    path = Path(settings.HDH_HOME) / "identite" / "snds" / "IR_IDENTITE" / "part-00000.parquet"
    if not path.exists():
        return []
    table = pq.read_table(path, columns=["BEN_NIR", "BEN_NAI_DTE", "BEN_SEX_COD"])
    if table.num_rows == 0:
        return []
    return table.slice(0, OBJECTORS + SHOWN).to_pylist()


def load() -> str:
    base = Base.objects.filter(slug="snds").first()
    if base is None or base.current_version_id is None:
        return "no SNDS base: preparation demo skipped"
    create_demo_accounts()
    lines = []
    if not Application.objects.filter(title=TITLE).exists():
        application = file_and_authorise(STUDY, base)
        lines.append(
            f"demande {application.pk} prête à préparer ({application.get_state_display()})"
        )
    people = _identities()
    if people and objections.register_version() == 0:
        for person in people[:OBJECTORS]:
            objections.file_objection(
                nir=person["BEN_NIR"], birth_date=person["BEN_NAI_DTE"], sex=person["BEN_SEX_COD"]
            )
    for person in people[OBJECTORS:]:
        lines.append(
            f"identité synthétique : NIR {person['BEN_NIR']}, naissance "
            f"{person['BEN_NAI_DTE']}, sexe {person['BEN_SEX_COD']}"
        )
    if not lines:
        return "démonstration déjà chargée"
    return "\n    ".join(lines)
