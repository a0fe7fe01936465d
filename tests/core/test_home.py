from __future__ import annotations

import itertools
import re

import pytest
from django.test import Client

from hdh.core import navigation

pytestmark = pytest.mark.django_db


def test_home_is_french_by_default_with_the_dsfr_shell(client: Client) -> None:
    response = client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="fr"' in html
    assert 'class="fr-header"' in html
    assert "hdh — Plateforme des données de santé" in html
    assert 'class="fr-nav__list"' in html
    assert 'class="fr-footer"' in html
    assert "Accessibilité : non conforme" in html
    assert "Les données de santé au service de l'intérêt général" in html
    assert response.headers["Content-Language"] == "fr"


def test_home_has_one_h1_and_no_skipped_heading_level(client: Client) -> None:
    html = client.get("/").content.decode()

    levels = [int(level) for level in re.findall(r"<h([1-6])[\s>]", html)]
    assert levels.count(1) == 1
    assert levels[0] == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels))


def test_skip_links_point_at_existing_targets(client: Client) -> None:
    html = client.get("/").content.decode()

    for target in ("content", "main-navigation", "footer"):
        assert f'href="#{target}"' in html
        assert f'id="{target}"' in html


def test_home_describes_every_area_of_the_main_navigation(client: Client) -> None:
    html = client.get("/").content.decode()

    for entry in navigation.MAIN_NAVIGATION:
        link = navigation.resolve(entry)
        assert f'<section id="{entry.anchor}"' in html
        assert f'<a class="fr-nav__link" href="{link.href}"' in html
        if link.available:
            assert f'<a class="fr-btn fr-btn--secondary" href="{link.href}"' in html
        else:
            assert link.href == f"/#{entry.anchor}"


def test_header_offers_sign_in_to_visitors(client: Client) -> None:
    html = client.get("/").content.decode()

    assert "Se connecter" in html
    assert "Se déconnecter" not in html


def test_header_offers_account_and_a_sign_out_form_to_signed_in_people(
    client: Client, django_user_model
) -> None:  # type: ignore[no-untyped-def]
    user = django_user_model.objects.create_user("marie", password="pas-important-ici")
    client.force_login(user)

    html = client.get("/").content.decode()

    assert "Se connecter" not in html
    sign_out = re.search(r'<form method="post" action="([^"]+)">\s*<input type="hidden"', html)
    assert sign_out is not None, "sign-out must be a POST form carrying a CSRF token"
    assert "Se déconnecter" in html


def test_messages_are_dsfr_alerts_and_escaped(client: Client, rf) -> None:  # type: ignore[no-untyped-def]
    from django.contrib import messages
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.db import SessionStore
    from django.template.loader import render_to_string

    request = rf.get("/")
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    messages.success(request, "Demande <b>envoyée</b>")

    html = render_to_string("core/home.html", request=request)

    assert 'class="fr-alert fr-alert--sm fr-mb-2w fr-alert--success"' in html
    assert "Demande &lt;b&gt;envoyée&lt;/b&gt;" in html


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/accessibilite", "Déclaration d'accessibilité"),
        ("/mentions-legales", "Mentions légales"),
        ("/donnees-personnelles", "Données personnelles"),
    ],
)
def test_pages_linked_from_the_footer(client: Client, path: str, heading: str) -> None:
    html = client.get("/").content.decode()
    assert f'class="fr-footer__bottom-link" href="{path}"' in html

    response = client.get(path)

    assert response.status_code == 200
    assert f"<h1>{heading}</h1>" in response.content.decode()
