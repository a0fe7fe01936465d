"""Demo: a second authorised SNDS project whose data is prepared and whose workspace is open.

demo-researcher (scientific lead, the only member) signs in and finds it under
"Espaces projet": the SQL console and batch jobs work on its prepared
dataset. demo-researcher-2 is not a member and sees nothing of it. The first
demo project (preparation's) stays at "contract signed", ready to prepare.

The data engineer's step (plan, run, publication) is lent by the demo command
as ``prepare`` (``hdh.management.demo_preparation``): the workspace app never
imports preparation's engine side.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hdh.access.demo import Study, file_and_authorise
from hdh.access.models import Application
from hdh.accounts.demo import create_demo_accounts
from hdh.accounts.models import User
from hdh.catalog.models import Base
from hdh.workspace import services, storage
from hdh.workspace.models import Workspace

TITLE = "Consommation de soins de ville selon l'âge et le sexe (espace projet)"
PERIMETER = {
    "IR_BEN_R": ["BEN_NIR_PSA", "BEN_RNG_GEM", "BEN_SEX_COD", "BEN_NAI_ANN", "BEN_RES_DPT"],
    "ER_PRS_F": ["BEN_NIR_PSA", "BEN_RNG_GEM", "EXE_SOI_DTD", "PRS_NAT_REF", "PRS_ACT_QTE"],
}


def _user(username: str) -> User:
    return User.objects.get(username=username)


STUDY = Study(
    title=TITLE,
    lay_summary="Mesurer le recours aux soins de ville selon l'âge et le sexe en 2023.",
    technical_summary="Étude transversale sur le DCIR.",
    purpose="Décrire la consommation de soins de ville de la population.",
    public_interest="Éclairer l'organisation de l'offre de soins.",
    implementer_name="Équipe d'économie de la santé (démonstration)",
    expected_outputs="Tableaux agrégés et graphiques.",
    population_criteria="Tous les bénéficiaires.",
    justification="Nécessaire pour mesurer le recours aux soins.",
    perimeter=PERIMETER,
)


def load(prepare: Callable[..., Any] | None = None) -> str:
    base = Base.objects.filter(slug="snds").first()
    if base is None or base.current_version_id is None:
        return "no SNDS base: workspace demo skipped"
    if prepare is None:
        return "no data preparation step given: workspace demo skipped"
    create_demo_accounts()
    application = Application.objects.filter(title=TITLE).first()
    created = application is None
    if application is None:
        application = file_and_authorise(STUDY, base)
        permit = application.permit
        prepare(
            permit=permit,
            by=_user("demo-data-engineer"),
            override=f"Autorisation {permit.reference} : âge et département nécessaires.",
        )
        application.refresh_from_db()
    workspace = Workspace.objects.filter(permit__application=application).first()
    if workspace is None:
        workspace = services.workspace_for(permit=application.permit, by=_user("demo-researcher"))
    folder = storage.workspace_folder(workspace.reference)
    if not created:
        return f"espace projet {workspace.reference} déjà ouvert ({folder})"
    return (
        f"espace projet {workspace.reference} ouvert pour demo-researcher "
        f"(demande {application.pk}) : {folder}"
    )
