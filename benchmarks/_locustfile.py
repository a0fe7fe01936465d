"""The load scenario of ``benchmarks/load.py``, for Locust (a helper, not a benchmark).

Five kinds of people use the platform at once (weights are shares of the users):

* ``Visitor`` (5): anonymous catalog browsing — home, catalog home, a base, a
  table, a variable, the public project directory;
* ``Searcher`` (3): catalog search, through the page and the API, with the
  queries people type (codes, French phrases, typos);
* ``Applicant`` (1): a researcher signs in (password, then TOTP) and files
  applications — create, fill, perimeter and submit through the API, the study
  protocol through its page, then reads the file's page;
* ``Analyst`` (1): demo-researcher in the demo workspace, SQL console queries
  through the workspace page (as htmx posts them), from several browser tabs
  that share one signed-in session (a TOTP code is accepted once per account);
* ``Probe`` (exactly one): ``/healthz`` every half second, the baseline — the
  same server and load, no application work.

The platform runs in production mode behind its TLS proxy, whose part is played
by the client: it speaks to ``https://`` addresses (so ``Secure`` cookies, the
CSRF referer rule and HSTS apply as in a browser), sends plain HTTP on the
loopback leg, and adds the proxy's ``X-Forwarded-Proto: https``.

``load.py`` writes the plan (accounts, workspace, catalog pages) as JSON and
names it in ``HDH_LOAD_PLAN``; every request's outcome is written as JSON lines
to the plan's ``samples`` file when Locust quits.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from pathlib import Path
from typing import Any

import gevent.lock
import pyotp
from locust import HttpUser, between, constant_pacing, events, task
from requests.adapters import HTTPAdapter

PLAN: dict[str, Any] = json.loads(Path(os.environ["HDH_LOAD_PLAN"]).read_text(encoding="utf-8"))
SAMPLES: list[tuple[str, str, float, float, str]] = []

SEARCHES = (
    "NIR",
    "date de naissance",
    "diagnostic principal",
    "urgences",
    "ER_PRS_F",
    "BEN_NIR_PSA",
    "hospitalisation",
    "médicament",
    "code CIM-10",
    # Typos people make.
    "diagnostique principal",
    "date de naisance",
    "urgense",
    "ER_PRS",
)
CONSOLE_QUERIES = (
    "SELECT BEN_SEX_COD, COUNT(*) AS n FROM IR_BEN_R GROUP BY 1 ORDER BY 1",
    "SELECT PRS_NAT_REF, COUNT(*) AS n, SUM(PRS_ACT_QTE) AS actes FROM ER_PRS_F "
    "GROUP BY 1 ORDER BY n DESC LIMIT 20",
    "SELECT b.BEN_RES_DPT, COUNT(*) AS soins FROM ER_PRS_F p JOIN IR_BEN_R b "
    "ON p.BEN_NIR_PSA = b.BEN_NIR_PSA AND p.BEN_RNG_GEM = b.BEN_RNG_GEM "
    "GROUP BY 1 ORDER BY soins DESC",
    "SELECT date_trunc('month', EXE_SOI_DTD) AS mois, COUNT(*) AS n FROM ER_PRS_F "
    "GROUP BY 1 ORDER BY 1",
    "SELECT * FROM ER_PRS_F LIMIT 200",
)
# A minimal valid PDF, standing in for a study protocol.
PROTOCOL = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


@events.request.add_listener
def _record(
    request_type: str,
    name: str,
    response_time: float,
    exception: BaseException | None,
    start_time: float | None = None,
    **_: Any,
) -> None:
    problem = "" if exception is None else f"{type(exception).__name__}: {exception}"[:300]
    SAMPLES.append((name, request_type, response_time, start_time or time.time(), problem))


@events.quitting.add_listener
def _write_samples(**_: Any) -> None:
    with open(PLAN["samples"], "w", encoding="utf-8") as out:
        for name, method, elapsed, started, problem in SAMPLES:
            out.write(
                json.dumps(
                    {"name": name, "method": method, "ms": elapsed, "at": started, "error": problem}
                )
                + "\n"
            )


class _TLSProxyLeg(HTTPAdapter):
    """Plain HTTP to the server for ``https://`` addresses: the proxy's side of TLS."""

    def build_connection_pool_key_attributes(
        self, request: Any, verify: Any, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        host, _ = super().build_connection_pool_key_attributes(request, verify, cert)
        return {**host, "scheme": "http"}, {}


def behind_the_proxy(user: HttpUser) -> None:
    user.client.mount("https://", _TLSProxyLeg(pool_maxsize=4))
    user.client.headers.update({"X-Forwarded-Proto": "https", "Referer": f"{user.host}/"})


class PlatformUser(HttpUser):
    """A browser, in French, reaching the platform through its TLS proxy."""

    abstract = True
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        behind_the_proxy(self)
        self.client.headers.update({"Accept-Language": "fr"})

    def page(self, path: str, name: str, expect: str | None = None) -> None:
        with self.client.get(path, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
            elif expect is not None and expect not in response.text:
                response.failure(f"{expect!r} not in the page")
            elif response.url and "/comptes/" in response.url and "/comptes/" not in path:
                response.failure("sent to the sign-in pages")

    def csrf(self) -> dict[str, str]:
        return {"X-CSRFToken": self.client.cookies.get("csrftoken") or ""}

    def sign_in(self, username: str, password: str, secret: str, scenario: str) -> None:
        self.page("/comptes/connexion/", f"{scenario}: sign-in page")
        with self.client.post(
            "/comptes/connexion/",
            data={"username": username, "password": password, **self._form_token()},
            name=f"{scenario}: sign in (password)",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
                return
            if "/comptes/double-authentification/" not in response.url:
                response.failure(f"password step ended at {response.url}")
                return
        code = pyotp.TOTP(secret).now()
        with self.client.post(
            "/comptes/double-authentification/",
            data={"code": code, **self._form_token()},
            name=f"{scenario}: sign in (TOTP)",
            catch_response=True,
        ) as response:
            if response.status_code != 200 or "/comptes/" in response.url:
                response.failure(f"second factor ended at {response.url}")

    def _form_token(self) -> dict[str, str]:
        return {"csrfmiddlewaretoken": self.client.cookies.get("csrftoken") or ""}


class Visitor(PlatformUser):
    weight = 5

    @task(2)
    def home(self) -> None:
        self.page("/", "browse: home")

    @task(3)
    def catalog_home(self) -> None:
        self.page("/catalogue/", "browse: catalog home")

    @task(3)
    def base(self) -> None:
        slug = random.choice(PLAN["bases"])  # noqa: S311 - load mix, not a secret
        self.page(f"/catalogue/bases/{slug}/", "browse: base page")

    @task(4)
    def table(self) -> None:
        table, _ = random.choice(PLAN["variables"])  # noqa: S311
        self.page(f"/catalogue/bases/snds/tables/{table}/", "browse: table page")

    @task(4)
    def variable(self) -> None:
        table, variable = random.choice(PLAN["variables"])  # noqa: S311
        self.page(f"/catalogue/bases/snds/tables/{table}/{variable}/", "browse: variable page")

    @task(1)
    def directory(self) -> None:
        self.page("/projets/repertoire/", "browse: project directory")


class Searcher(PlatformUser):
    weight = 3

    @task(4)
    def search_page(self) -> None:
        query = random.choice(SEARCHES)  # noqa: S311
        with self.client.get(
            "/catalogue/recherche/",
            params={"q": query},
            name="search: page",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")

    @task(1)
    def search_api(self) -> None:
        query = random.choice(SEARCHES)  # noqa: S311
        with self.client.get(
            "/api/catalog/search", params={"q": query}, name="search: API", catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
            elif "hits" not in response.json():
                response.failure("no hits in the answer")


_accounts = iter(PLAN["applicants"])


class Applicant(PlatformUser):
    weight = 1

    def on_start(self) -> None:
        super().on_start()
        account = next(_accounts)
        self.sign_in(account["username"], account["password"], account["totp_secret"], "apply")
        self.number = 0

    @task(3)
    def file_application(self) -> None:
        self.number += 1
        title = f"Étude de charge {self.number} : recours aux soins de ville"
        with self.client.post(
            "/api/access/applications",
            json={"title": title, "legal_route": "standard"},
            headers=self.csrf(),
            name="apply: create (API)",
            catch_response=True,
        ) as response:
            if response.status_code != 201:
                response.failure(f"status {response.status_code}: {response.text[:200]}")
                return
            pk = response.json()["id"]
        self._api(
            "patch",
            f"/api/access/applications/{pk}",
            "apply: fill (API)",
            {
                "lay_summary": "Mesurer le recours aux soins de ville selon l'âge.",
                "technical_summary": "Étude observationnelle rétrospective sur le DCIR.",
                "purpose": "Décrire la consommation de soins de ville.",
                "public_interest": "Éclairer l'organisation de l'offre de soins.",
                "controller_name": "Institut de recherche en santé publique (démonstration)",
                "implementer_name": "Équipe d'épidémiologie (démonstration)",
                "expected_outputs": "Tableaux agrégés.",
                "duration_months": 24,
                "processing_location": "Plateforme hdh, espace projet",
                "period_start": "2019-01-01",
                "period_end": "2023-12-31",
                "population_criteria": "Tous les bénéficiaires.",
            },
        )
        self._api(
            "post",
            f"/api/access/applications/{pk}/perimeter",
            "apply: perimeter (API)",
            {
                "base": "snds",
                "table": "ER_PRS_F",
                "variables": ["BEN_NIR_PSA", "EXE_SOI_DTD", "PRS_NAT_REF"],
                "justification": "Ces variables décrivent les soins remboursés étudiés.",
            },
            expect=201,
        )
        with self.client.post(
            f"/projets/{pk}/protocole/",
            data=self._form_token(),
            files={"protocol": ("protocole.pdf", PROTOCOL, "application/pdf")},
            name="apply: protocol (page)",
            catch_response=True,
        ) as response:
            if response.status_code != 200 or f"/projets/{pk}/" not in response.url:
                response.failure(f"status {response.status_code} at {response.url}")
        self._api("post", f"/api/access/applications/{pk}/submit", "apply: submit (API)", None)
        self.page(f"/projets/{pk}/", "apply: application page", expect=title[:20])

    @task(1)
    def my_applications(self) -> None:
        self.page("/projets/", "apply: my applications")

    def _api(self, method: str, path: str, name: str, body: Any, *, expect: int = 200) -> None:
        with self.client.request(
            method.upper(), path, json=body, headers=self.csrf(), name=name, catch_response=True
        ) as response:
            if response.status_code != expect:
                response.failure(f"status {response.status_code}: {response.text[:200]}")


class _SharedSession:
    """One signed-in browser session for the tabs of the same person."""

    def __init__(self) -> None:
        self.lock = gevent.lock.Semaphore()
        self.cookies: Any = None


_workspace_session = _SharedSession()
_RESULT = re.compile(r'id="console-table"')


class Analyst(PlatformUser):
    weight = 1

    def on_start(self) -> None:
        super().on_start()
        self.ref = PLAN["workspace"]
        with _workspace_session.lock:
            if _workspace_session.cookies is None:
                account = PLAN["analyst"]
                self.sign_in(
                    account["username"], account["password"], account["totp_secret"], "workspace"
                )
                _workspace_session.cookies = self.client.cookies.copy()
            else:
                self.client.cookies.update(_workspace_session.cookies)

    @task(1)
    def dashboard(self) -> None:
        self.page(f"/espaces/{self.ref}/", "workspace: dashboard")

    @task(1)
    def console_page(self) -> None:
        self.page(f"/espaces/{self.ref}/console/", "workspace: console page")

    @task(4)
    def query(self) -> None:
        sql = random.choice(CONSOLE_QUERIES)  # noqa: S311
        with self.client.post(
            f"/espaces/{self.ref}/console/",
            data={"sql": sql, **self._form_token()},
            headers={"HX-Request": "true"},
            name="workspace: console query",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
            elif not _RESULT.search(response.text):
                refusal = re.sub(r"<[^>]+>", " ", response.text)
                response.failure(f"no result: {' '.join(refusal.split())[:200]}")


class Probe(HttpUser):
    """The baseline: the same server answering its liveness check."""

    fixed_count = 1
    wait_time = constant_pacing(0.5)

    def on_start(self) -> None:
        behind_the_proxy(self)

    @task
    def healthz(self) -> None:
        with self.client.get("/healthz", name="baseline: /healthz", catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"status {r.status_code}")
