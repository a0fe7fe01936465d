"""Synthetic samples of a catalogued table: linked from the catalog, generated from the
schema alone, deterministic, size-capped, and robust to hostile parameters."""

from __future__ import annotations

import io

import pyarrow.parquet as pq
import pytest
from django.test import Client
from django.urls import reverse

from hdh.core.permissions import Role
from hdh.lake.models import DepositStatus
from hdh.lake.services import ingest
from hdh.synth import samples
from tests.access.helpers import client_for
from tests.factories.accounts import UserFactory
from tests.factories.lake import create_producer

pytestmark = pytest.mark.django_db


@pytest.fixture
def researcher() -> Client:
    return client_for(UserFactory(roles=[Role.RESEARCHER]))


def _url(base, table="PATIENT", fmt="csv") -> str:
    name = "lake:synthetic_sample" if fmt == "csv" else "lake:synthetic_sample_parquet"
    return reverse(name, kwargs={"slug": base.slug, "table": table})


def test_the_variable_page_links_to_the_tables_sample_for_researchers(base, researcher):
    page = reverse(
        "catalog:variable", kwargs={"slug": base.slug, "table": "SEJOUR", "variable": "SEJ_NUM"}
    )
    html = researcher.get(page).content.decode()
    assert "Télécharger un échantillon synthétique" in html
    assert html.count("Profil des données") == 1
    assert "sera affiché une fois les données déposées" in html
    assert _url(base, "SEJOUR") in html
    assert _url(base, "SEJOUR", "parquet") in html
    # Anonymous readers see the catalog, not the download link.
    assert "Télécharger un échantillon synthétique" not in Client().get(page).content.decode()


def test_the_table_page_links_to_the_tables_sample_for_researchers(base, researcher):
    page = reverse("catalog:table", kwargs={"slug": base.slug, "table": "SEJOUR"})
    html = researcher.get(page).content.decode()
    assert _url(base, "SEJOUR") in html
    assert _url(base, "SEJOUR", "parquet") in html
    assert _url(base, "SEJOUR") not in Client().get(page).content.decode()


def test_a_sample_follows_the_schema_and_is_the_same_every_time(base, researcher):
    first = researcher.get(_url(base, "SEJOUR") + "?lignes=50")
    assert first.status_code == 200
    assert first["Content-Disposition"] == 'attachment; filename="SEJOUR-synthetique.csv"'
    lines = first.content.decode().splitlines()
    assert lines[0].split(";") == [
        '"SEJ_NUM"', '"PAT_ID"', '"SEJ_DTE"', '"SEJ_NBJ"', '"SEJ_MNT"', '"SEJ_URG"', '"SEJ_MOD"'
    ]  # fmt: skip
    assert len(lines) == 51
    assert researcher.get(_url(base, "SEJOUR") + "?lignes=50").content == first.content
    parquet = researcher.get(_url(base, "SEJOUR", "parquet") + "?lignes=50")
    assert parquet.status_code == 200
    table = pq.read_table(io.BytesIO(parquet.content))
    assert table.num_rows == 50
    assert table.schema.field("SEJ_NBJ").type == "int64"
    values = table.to_pydict()
    assert all(0 <= n <= 365 for n in values["SEJ_NBJ"] if n is not None)
    assert set(values["SEJ_MOD"]) <= {"7", "8", "9", None}
    assert len(set(values["SEJ_NUM"])) == 50


def test_a_sample_never_contains_deposited_rows(base, researcher, write):
    ids = [f"R{i:07d}" for i in range(200)]
    text = "PAT_ID;PAT_SEX;PAT_NAI_ANN;PAT_DPT\n" + "".join(f"{i};1;1950;075\n" for i in ids)
    deposit = ingest(base=base, table="PATIENT", files=[write("p.csv", text)], by=create_producer())
    assert deposit.status == DepositStatus.ACCEPTED
    content = researcher.get(_url(base) + f"?lignes={samples.MAX_ROWS}").content.decode()
    assert len(content.splitlines()) == samples.MAX_ROWS + 1
    assert not any(i in content for i in ids)


@pytest.mark.parametrize(
    "rows",
    [
        "0",
        "-1",
        "abc",
        "1e3",
        "10001",
        "99999999999999999999",
        "\uff11\uff10",
        " 10",
        "10;DROP",
        "",
    ],
)
def test_hostile_sizes_are_refused(base, researcher, rows):
    assert researcher.get(_url(base), {"lignes": rows}).status_code == 400


@pytest.mark.parametrize(
    "table", ["NOPE", "PATIENT'--", 'PATIENT"', "..", "A" * 5000, "patient", "PATIENT%0a"]
)
def test_unknown_or_hostile_table_names_find_nothing(base, researcher, table):
    response = researcher.get(_url(base, table))
    assert response.status_code == 404
    assert "Content-Disposition" not in response


def test_nul_in_the_table_name_is_refused(base, researcher):
    url = f"/lac/echantillons/{base.slug}/PATIENT%00.csv"
    assert researcher.get(url).status_code in {400, 404}


def test_unknown_bases_are_404_and_only_researchers_download(base, researcher):
    missing = reverse("lake:synthetic_sample", kwargs={"slug": "nope", "table": "PATIENT"})
    assert researcher.get(missing).status_code == 404
    assert Client().get(_url(base)).status_code == 302
    assert client_for(create_producer()).get(_url(base)).status_code == 403
