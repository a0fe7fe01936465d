"""A NUL character in a URL gets a clear 400 on every route, never a server error."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/api/catalog/bases/a%00b",
        "/catalogue/bases/a%00b/",
        "/catalogue/recherche/?q=nir%00",
        "/comptes/connexion/?next=/%00",
        "/%00",
    ],
)
def test_nul_in_the_url_is_refused(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 400
    assert "Caractère nul" in response.content.decode()
