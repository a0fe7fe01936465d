from __future__ import annotations

import gettext
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.test import Client

LOCALE = Path(settings.LOCALE_PATHS[0])
CATALOG_PO = LOCALE / "en" / "LC_MESSAGES" / "django.po"
CATALOG_MO = LOCALE / "en" / "LC_MESSAGES" / "django.mo"


@pytest.mark.django_db
def test_switching_to_english_translates_the_page(client: Client) -> None:
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    html = client.get("/").content.decode()
    assert '<html lang="en"' in html
    assert "Health data in the service of the public interest" in html
    assert ">My rights</a>" in html
    assert "Accessibility: not compliant" in html


@pytest.mark.django_db
def test_switching_back_to_french(client: Client) -> None:
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    client.post("/i18n/setlang/", {"language": "fr", "next": "/"})

    html = client.get("/").content.decode()
    assert '<html lang="fr"' in html
    assert ">Mes droits</a>" in html


@pytest.mark.django_db
def test_language_selector_posts_to_set_language_with_the_current_path(client: Client) -> None:
    html = client.get("/?onglet=2").content.decode()

    assert 'action="/i18n/setlang/"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'name="next" value="/?onglet=2"' in html
    assert 'name="language" value="en"' in html
    assert 'name="language" value="fr"' in html


@pytest.mark.django_db
def test_an_unknown_language_falls_back_to_french(client: Client) -> None:
    html = client.get("/", headers={"accept-language": "de"}).content.decode()

    assert '<html lang="fr"' in html


def _compiled_messages(po: polib.POFile) -> dict[object, str]:
    """What ``msgfmt`` puts in the .mo: translated, non-fuzzy, non-obsolete entries."""
    expected: dict[object, str] = {}
    for entry in po.translated_entries():
        key = f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid
        if entry.msgid_plural:
            for index, text in entry.msgstr_plural.items():
                expected[(key, int(index))] = text
        else:
            expected[key] = entry.msgstr
    return expected


def test_english_catalog_is_complete() -> None:
    po = polib.pofile(str(CATALOG_PO))

    untranslated = [entry.msgid for entry in po.untranslated_entries()]
    fuzzy = [entry.msgid for entry in po.fuzzy_entries()]
    assert not untranslated, f"untranslated in {CATALOG_PO.name}: {untranslated}"
    assert not fuzzy, f"fuzzy in {CATALOG_PO.name}: {fuzzy}"


def test_compiled_english_catalog_matches_its_source() -> None:
    po = polib.pofile(str(CATALOG_PO))
    with CATALOG_MO.open("rb") as handle:
        mo = gettext.GNUTranslations(handle)

    compiled = {key: value for key, value in mo._catalog.items() if key != ""}  # type: ignore[attr-defined]

    assert compiled == _compiled_messages(po), (
        "django.mo is out of date: run `django-admin compilemessages` in src/hdh and commit it"
    )
