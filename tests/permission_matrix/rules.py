"""Who may do what on every route: the rule table of the permission matrix.

Each route of the URL configuration has one rule: the method it is probed with,
the body sent (a minimal valid one where the view validates its form before
the decisive check), the outcome every actor must get, and who may change data
with it (everyone else must leave every table as it found it). Actors are listed
in ``tests/permission_matrix/world.py``; "own" objects belong to the project of
``member`` and ``lead``, and are foreign to everyone else, ``foreign`` included.

A value ``"@name"`` in a body is filled from the world's values.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tests.permission_matrix.probe import ALLOWED, FORBIDDEN, LOGIN, NOT_FOUND, UPLOAD
from tests.permission_matrix.world import ACTORS

EVERYONE = frozenset(ACTORS)
SIGNED_IN = EVERYONE - {"anonymous"}
TEAM = frozenset({"member", "lead"})
# The project's team and the staff who instruct its file (the guichet, the
# committee member who reviewed it, the regulator) and prepare its data.
FILE_READERS = TEAM | {"officer", "committee", "regulator", "engineer"}
RESEARCHERS = frozenset({"researcher", "lead", "foreign"})
PRODUCERS = frozenset({"producer", "other_producer"})


@dataclass(frozen=True)
class Rule:
    method: str
    expect: dict[str, str]
    body: dict[str, Any] | None = None
    # Who may change data with this request; by default, whoever is let in.
    writers: frozenset[str] | None = None
    why: str = ""
    extra: tuple[Rule, ...] = field(default=())

    def may_write(self) -> frozenset[str]:
        if self.writers is not None:
            return self.writers
        return frozenset(actor for actor, seen in self.expect.items() if seen == ALLOWED)


def public(method: str = "GET", *, body: dict[str, Any] | None = None, why: str = "") -> Rule:
    return Rule(method, dict.fromkeys(ACTORS, ALLOWED), body, frozenset(), why or "public")


def same_for_all(outcome: str, method: str = "GET", *, why: str = "") -> Rule:
    return Rule(method, dict.fromkeys(ACTORS, outcome), None, frozenset(), why)


def only(
    allowed: Iterable[str],
    *,
    method: str = "GET",
    denied: str = FORBIDDEN,
    anonymous: str = LOGIN,
    body: dict[str, Any] | None = None,
    writers: Iterable[str] | None = None,
    why: str = "",
    also: Rule | None = None,
    **exceptions: str,
) -> Rule:
    allowed = frozenset(allowed)
    unknown = (allowed | set(exceptions)) - EVERYONE
    assert not unknown, unknown
    expect = {
        actor: anonymous if actor == "anonymous" else ALLOWED if actor in allowed else denied
        for actor in ACTORS
    }
    expect.update(exceptions)
    return Rule(
        method,
        expect,
        body,
        None if writers is None else frozenset(writers),
        why,
        (also,) if also else (),
    )


def post(allowed: Iterable[str], **kwargs: Any) -> Rule:
    return only(allowed, method="POST", **kwargs)


# --- the table ----------------------------------------------------------------------
RULES: dict[str, Rule] = {
    # Public pages: home, legal pages, health check, language, sign-in.
    "home": public(),
    "healthz": public(),
    "accessibility": public(),
    "legal_notice": public(),
    "personal_data": public(),
    "set_language": public("POST", body={"language": "en", "next": "/"}),
    "accounts:login": public(),
    "accounts:logout": Rule(
        "POST", dict.fromkeys(ACTORS, ALLOWED), None, EVERYONE, "signing out is open to anyone"
    ),
    # The second-factor pages are for the signed-in (here: already verified).
    "accounts:mfa_verify": only(SIGNED_IN),
    "accounts:mfa_enrol": only(SIGNED_IN),
    "accounts:profile": only(SIGNED_IN),
    "accounts:tokens": only(
        SIGNED_IN,
        also=post(
            SIGNED_IN,
            body={"label": "un jeton"},
            why="each account makes its own tokens",
        ),
    ),
    # Someone else's token looks like an unknown one.
    "accounts:revoke_token": post({"lead"}, denied=NOT_FOUND),
    # The catalog is public; describing a base is the producers'.
    "catalog:index": public(),
    "catalog:search": public(),
    "catalog:base": public(),
    "catalog:data_package": public(),
    "catalog:csvw": public(),
    "catalog:code_list": public(),
    "catalog:table": public(),
    "catalog:variable": public(),
    "catalog:base_create": only(
        PRODUCERS, also=post(PRODUCERS, body={"name": "Base de la matrice"})
    ),
    "catalog:base_edit": only(
        {"producer"}, also=post({"producer"}, body={"name": "Base renommée"})
    ),
    # The lake: deposits are the producers'; profiles are public (small counts hidden);
    # synthetic samples are for researchers.
    "lake:deposit": only(
        PRODUCERS,
        also=post({"producer"}, body={"base": "@base", "table": "@table", "uploads": UPLOAD}),
    ),
    # The depositor, or producers of the base's holder organisation.
    "lake:deposit_report": only({"producer"}),
    "lake:variable_profile": public(),
    "lake:synthetic_sample": only(RESEARCHERS),
    "lake:synthetic_sample_parquet": only(RESEARCHERS),
}

# The guichet. The project's file is past its contract (workspace open), so most
# actions are refused for their state (409) to the people who may take them: they
# were let in, and the state check stops them.
CATALOG_BASE = {
    "slug": "base-de-la-matrice",
    "title": "Base de la matrice",
    "description": "Une base décrite pour la matrice.",
    "health_category": "EHRS",
    "data_holder": "Producteur de test",
    "contact_email": "contact@example.org",
}
_COMMITTEE = {"outcome": "favourable", "rationale": "Avis motivé."}
RULES |= {
    "access:index": public(why="the guichet's landing page; a signed-in user sees their files"),
    "access:create": only(
        {"researcher", "lead", "foreign"},
        also=post(
            {"researcher", "lead", "foreign"},
            body={"title": "Nouvelle étude", "legal_route": "standard"},
        ),
    ),
    "access:overdue": only({"officer", "committee", "regulator"}),
    "access:directory": public(),
    "access:directory_csv": public(),
    "access:directory_json": public(),
    "access:directory_project": public(),
    "access:statistics": public(),
    "access:questions": only({"officer"}),
    "access:question_add": post({"officer"}),
    "access:question_revise": post({"officer"}),
    "access:question_retire": post({"officer"}),
    "access:detail": only(FILE_READERS),
    "access:edit": only({"lead"}, also=post({"lead"})),
    "access:protocol": post({"lead"}),
    "access:protocol_file": only(FILE_READERS),
    "access:perimeter": only(
        {"lead"}, also=post({"lead"}, body={"base": "@slug", "justification": "j"})
    ),
    "access:perimeter_remove": post({"lead"}),
    "access:member_add": post({"lead"}, body={"username": "@username", "role": "member"}),
    "access:member_remove": post({"lead"}),
    "access:submit": post({"lead"}),
    "access:resubmit": post({"lead"}),
    "access:withdraw": post({"lead"}),
    "access:amend": post({"lead"}),
    "access:extra_answer": post({"lead"}),
    "access:message": post(FILE_READERS - {"engineer"}, body={"body": "Bonjour"}),
    # The project's team, or the guichet (checked by the service).
    "access:publication_add": post(
        TEAM | {"officer"},
        body={
            "title": "Article",
            "kind": "article",
            "published_on": "2026-01-05",
            "doi": "10.1000/x",
        },
    ),
    "access:publication_remove": post(TEAM | {"officer"}),
    "access:take_up": post({"officer"}),
    "access:admissibility": post({"officer"}),
    "access:assign": post({"officer"}, body={"reviewer": "@reviewer"}),
    # Only an assigned reviewer declares (checked by the service).
    "access:interests": post({"committee"}, body={"has_conflict": "no", "statement": ""}),
    "access:opinion": post({"committee"}, body={"opinion": "favourable", "rationale": "r"}),
    # The guichet officer or the chair of the review (checked by the service).
    "access:committee": post({"officer", "committee"}, body=_COMMITTEE),
    "access:request_information": post({"committee"}, body={"text": "Précisez."}),
    "access:decide": post({"regulator"}, body={"outcome": "refused", "rationale": "r"}),
    "access:extend": post({"regulator"}),
    "access:contract": post({"officer"}),
    "access:lifecycle": post({"officer"}),
}

# Data preparation: the data engineers only, 403 for everyone else.
RULES |= {
    name: (post if action else only)({"engineer"})
    for name, action in {
        "preparation:index": False,
        "preparation:permit": False,
        "preparation:create_plan": True,
        "preparation:plan": False,
        "preparation:approve": True,
        "preparation:start_run": True,
        "preparation:open_workspace": True,
        "preparation:run": False,
        "preparation:progress": False,
        "preparation:cancel": True,
        "preparation:dataset": False,
        "preparation:request_linkage": True,
        "preparation:linkage": False,
        "preparation:linkage_status": False,
    }.items()
}

# The workspace: the project's members only; anyone else finds nothing (404).
RULES |= {
    "workspace:index": only(SIGNED_IN, why="each person's own workspaces"),
    **{
        name: (post if action else only)(TEAM, denied=NOT_FOUND)
        for name, action in {
            "workspace:dashboard": False,
            "workspace:console": False,
            "workspace:jobs": False,
            "workspace:new_job": False,
            "workspace:job": False,
            "workspace:job_status": False,
            "workspace:cancel_job": True,
            "workspace:rerun_job": True,
            "workspace:output": False,
        }.items()
    },
}
RULES["workspace:console"] = only(
    TEAM, denied=NOT_FOUND, also=post(TEAM, denied=NOT_FOUND, body={"sql": "SELECT 1"})
)
RULES["workspace:new_job"] = only(
    TEAM,
    denied=NOT_FOUND,
    also=post(TEAM, denied=NOT_FOUND, body={"kind": "sql", "name": "a.sql", "script": "SELECT 1"}),
)

# The airlock: the project's team and the output checkers; anyone else finds nothing.
_REVIEWERS = TEAM | {"checker"}
RULES |= {
    "airlock:index": only(SIGNED_IN, why="each person's own requests"),
    "airlock:queue": only({"checker"}),
    "airlock:workspace": only(TEAM, denied=NOT_FOUND),
    "airlock:detail": only(_REVIEWERS, denied=NOT_FOUND),
    "airlock:file": only(_REVIEWERS, denied=NOT_FOUND),
    "airlock:results": only(_REVIEWERS, denied=NOT_FOUND),
    "airlock:download": only(
        (), denied=NOT_FOUND, why="nothing is released yet: no download for anyone"
    ),
    "airlock:add_file": post(
        TEAM,
        denied=NOT_FOUND,
        checker=FORBIDDEN,
        body={"output": "@output", "group": "g", "kind": "output"},
    ),
    "airlock:save_group": post(
        TEAM,
        denied=NOT_FOUND,
        checker=FORBIDDEN,
        body={"name": "g", "context": "c", "controls": "c"},
    ),
    "airlock:comment": post(
        _REVIEWERS, denied=NOT_FOUND, body={"text": "Remarque", "visibility": "public"}
    ),
    # Submitted already: the state refuses it to both sides; only the team may ever.
    "airlock:submit": post(_REVIEWERS, denied=NOT_FOUND, writers=TEAM),
    "airlock:withdraw": post(_REVIEWERS, denied=NOT_FOUND, writers=TEAM),
    "airlock:submit_review": post({"checker"}, denied=NOT_FOUND, member=FORBIDDEN, lead=FORBIDDEN),
    # Not reviewed twice yet: the state refuses these; only a checker may ever.
    "airlock:approve": post(_REVIEWERS, denied=NOT_FOUND, writers={"checker"}),
    "airlock:return": post(_REVIEWERS, denied=NOT_FOUND, writers={"checker"}),
    "airlock:reject": post(
        _REVIEWERS, denied=NOT_FOUND, writers={"checker"}, body={"reason": "Non."}
    ),
    "airlock:replace": post(TEAM, denied=NOT_FOUND, checker=FORBIDDEN),
    "airlock:remove": post(TEAM, denied=NOT_FOUND, checker=FORBIDDEN),
    "airlock:kind": post(TEAM, denied=NOT_FOUND, checker=FORBIDDEN, body={"kind": "supporting"}),
    "airlock:vote": post(
        {"checker"},
        denied=NOT_FOUND,
        member=FORBIDDEN,
        lead=FORBIDDEN,
        body={"decision": "approved"},
    ),
}

# The citizens' portal is public; the rights inbox is the DPO's (auditor role).
RULES |= {
    "citizens:index": public(),
    "citizens:protection": public(),
    "citizens:dpo": public(),
    "citizens:report": public(),
    "citizens:bases": public(),
    "citizens:base": public(),
    "citizens:objection": public(),
    "citizens:objection_receipt": public(),
    "citizens:objection_status": public(),
    "citizens:rights": public(),
    "citizens:rights_status": public(),
    "citizens:oidc_login": same_for_all(NOT_FOUND, why="no identity provider configured"),
    "citizens:oidc_callback": same_for_all(NOT_FOUND, why="no identity provider configured"),
    "citizens:inbox": only({"auditor"}),
    "citizens:inbox_detail": only({"auditor"}, also=post({"auditor"}, body={"answer": "Réponse."})),
}

# The API: public reads of the catalog and directory; the rest needs a session or a token.
_API_READERS = TEAM | {"officer", "committee", "regulator"}
_LAKE_READERS = RESEARCHERS | PRODUCERS | {"engineer"}
RULES |= {
    "api:api-root": same_for_all(NOT_FOUND, why="no page at the API's root"),
    "api:openapi-json": public(),
    "api:openapi-view": public(),
    "GET /api/catalog/bases": public(),
    "GET /api/catalog/bases/{slug}": public(),
    "GET /api/catalog/bases/{slug}/tables": public(),
    "GET /api/catalog/bases/{slug}/tables/{table}": public(),
    "GET /api/catalog/bases/{slug}/code-lists/{name}": public(),
    "GET /api/catalog/search": public(),
    "POST /api/catalog/bases": post(PRODUCERS, body=CATALOG_BASE),
    "PATCH /api/catalog/bases/{slug}": only(
        {"producer"}, method="PATCH", body={"description": "d"}
    ),
    "GET /api/access/directory": public(),
    "GET /api/access/statistics": public(),
    "GET /api/access/applications": only(SIGNED_IN),
    "POST /api/access/applications": post(RESEARCHERS, body={"title": "T"}),
    "GET /api/access/applications/{pk}": only(_API_READERS),
    "PATCH /api/access/applications/{pk}": only({"lead"}, method="PATCH", body={"purpose": "P"}),
    "GET /api/access/applications/{pk}/perimeter": only(_API_READERS),
    "POST /api/access/applications/{pk}/perimeter": post(
        {"lead"}, body={"base": "@slug", "justification": "j"}
    ),
    "POST /api/access/applications/{pk}/submit": post({"lead"}),
    "POST /api/access/applications/{pk}/resubmit": post({"lead"}, body={"text": ""}),
    "POST /api/access/applications/{pk}/withdraw": post({"lead"}, body={"text": ""}),
    "POST /api/access/applications/{pk}/take-up": post({"officer"}),
    "POST /api/access/applications/{pk}/admissibility": post(
        {"officer"}, body={"decision": "accept"}
    ),
    # The guichet officer, or the chair of the file's review (its reviewer here).
    "POST /api/access/applications/{pk}/committee-opinion": post(
        {"officer", "committee"}, body=_COMMITTEE
    ),
    "POST /api/access/applications/{pk}/decision": post(
        {"regulator"}, body={"outcome": "refused", "rationale": "r"}
    ),
    "POST /api/access/applications/{pk}/contract": post({"officer"}),
    "GET /api/access/applications/{pk}/messages": only(_API_READERS),
    "POST /api/access/applications/{pk}/messages": post(_API_READERS, body={"body": "Bonjour"}),
    "POST /api/access/applications/{pk}/publications": post(
        TEAM | {"officer"},
        body={"title": "T", "kind": "article", "published_on": "2026-01-05", "doi": "10.1000/x"},
    ),
    "GET /api/lake/bases/{slug}/versions": only(_LAKE_READERS),
    "GET /api/lake/bases/{slug}/tables/{table}/versions/{number}/manifest": only(_LAKE_READERS),
    "GET /api/lake/deposits/{reference}": only({"producer"}),
    "GET /api/lake/profiles/{slug}/{table}/{variable}": public(),
    "POST /api/lake/bases/{slug}/tables/{table}/deposits": post(
        {"producer"}, body={"files": UPLOAD}
    ),
    # Django's admin: the administrators only; everyone else is sent to sign in.
    "admin": only({"admin"}, denied=LOGIN),
}
