"""A producer deposits through the web page, reads the report, fixes the file, sees the profile."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from hdh.lake.models import Deposit
from tests.accounts.helpers import sign_in
from tests.factories.accounts import UserFactory
from tests.factories.lake import create_producer

pytestmark = pytest.mark.django_db

HEADER = "PAT_ID;PAT_SEX;PAT_NAI_ANN;PAT_DPT\n"


def upload(client: Client, base, text: str, name: str = "patients.csv"):
    return client.post(
        reverse("lake:deposit"),
        {
            "base": base.pk,
            "table": "PATIENT",
            "uploads": [SimpleUploadedFile(name, text.encode("utf-8"), "text/csv")],
        },
    )


def test_deposit_report_fix_and_profile(base):
    producer = create_producer(with_totp=True)
    client = Client()
    sign_in(client, producer)
    assert client.get(reverse("lake:deposit")).status_code == 200

    bad = HEADER + "".join(f"P{i:07d};{1 + i % 2};{1950 + i % 3};075\n" for i in range(30))
    bad = bad.replace("P0000004;1", "P0000004;5")
    response = upload(client, base, bad)
    rejected = Deposit.objects.get()
    assert response.url == reverse("lake:deposit_report", kwargs={"reference": rejected.reference})
    page = client.get(response.url).content.decode()
    assert "Dépôt refusé" in page
    assert "code_list" in page
    assert "patients.csv, ligne 5" in page

    fixed = bad.replace("P0000004;5", "P0000004;1")
    response = upload(client, base, fixed)
    page = client.get(response.url).content.decode()
    assert "Dépôt accepté" in page

    profile = client.get(
        reverse(
            "lake:variable_profile",
            kwargs={"slug": base.slug, "table": "PATIENT", "variable": "PAT_SEX"},
        )
    ).content.decode()
    assert "Distribution" in profile
    assert "15" in profile
    # The catalog's own variable page shows the same profile, anonymous readers included.
    catalog_page = (
        Client()
        .get(
            reverse(
                "catalog:variable",
                kwargs={"slug": base.slug, "table": "PATIENT", "variable": "PAT_SEX"},
            )
        )
        .content.decode()
    )
    assert "Distribution" in catalog_page
    assert "sera affiché une fois les données déposées" not in catalog_page


def test_people_without_the_deposit_permission_cannot_deposit_or_read_reports(base):
    producer = create_producer(with_totp=True)
    client = Client()
    sign_in(client, producer)
    response = upload(client, base, HEADER + "P0000001;1;1950;075\n")
    researcher = UserFactory(with_totp=True)
    other = Client()
    sign_in(other, researcher)
    assert other.get(reverse("lake:deposit")).status_code == 403
    assert other.get(response.url).status_code == 403


def test_researchers_download_a_synthetic_sample_of_a_catalogued_table(base):
    from hdh.core.permissions import Role

    researcher = UserFactory(roles=[Role.RESEARCHER], with_totp=True)
    client = Client()
    sign_in(client, researcher)
    url = reverse("lake:synthetic_sample", kwargs={"slug": base.slug, "table": "PATIENT"})
    response = client.get(url)
    assert response.status_code == 200
    lines = response.content.decode().splitlines()
    assert lines[0] == '"PAT_ID";"PAT_SEX";"PAT_NAI_ANN";"PAT_DPT"'
    assert len(lines) == 1001
    missing = reverse("lake:synthetic_sample", kwargs={"slug": base.slug, "table": "NOPE"})
    assert client.get(missing).status_code == 404
    assert Client().get(url).status_code == 302  # anonymous: sign in first


@pytest.mark.parametrize(
    ("name", "limit", "message"),
    [
        ("patients.exe", None, "Format non pris en charge"),
        ("patients.csv", 10, "Le dépôt dépasse"),
    ],
)
def test_the_web_form_applies_the_same_limits_as_the_api(base, settings, name, limit, message):
    if limit is not None:
        settings.HDH_LAKE_UPLOAD_MAX_BYTES = limit
    producer = create_producer(with_totp=True)
    client = Client()
    sign_in(client, producer)
    response = upload(client, base, HEADER + "P0000001;1;1950;075\n", name=name)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Deposit.objects.exists()
