"""Code labels in the main search box: a label finds its code list, whose page
opens on the matching codes and lists the variables using it."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from hdh.catalog.models import SearchTerm
from hdh.catalog.search.query import search
from tests.factories.catalog import create_test_base, import_small

pytestmark = pytest.mark.django_db
# The demo catalog may be loaded by other tests of the package: look in our base only.
HOLDER = "Registre des tests de nomenclatures"
OURS = {"data_holder": HOLDER}


def test_a_code_label_finds_its_code_list(tmp_path: Path) -> None:
    base = create_test_base(title="Registre des zygomycoses", data_holder=HOLDER)
    import_small(base, tmp_path)
    results = search("Féminin", filters=OURS)
    assert [(hit.kind, hit.name) for hit in results.hits] == [("code_list", "SEXE")]
    hit = results.hits[0]
    assert hit.codes_query == "feminin"
    assert hit.url.endswith("?q=feminin")
    assert hit.as_dict()["in_codes"] is True
    page = Client().get(hit.url)
    assert page.status_code == 200
    content = page.content.decode()
    assert "Féminin" in content
    assert "Masculin" not in content
    assert "PAT_SEX" in content


def test_a_code_list_found_by_its_title_links_to_the_whole_list(tmp_path: Path) -> None:
    base = create_test_base(title="Registre des zygomycoses", data_holder=HOLDER)
    import_small(base, tmp_path)
    hit = next(h for h in search("sexe", filters=OURS).hits if h.kind == "code_list")
    assert hit.codes_query == ""
    assert "?" not in hit.url


def test_code_labels_rank_after_names_and_titles(tmp_path: Path) -> None:
    base = create_test_base(title="Registre des zygomycoses", data_holder=HOLDER)
    import_small(base, tmp_path)
    # "Inconnu" is only a code label; "patient" is in names, titles and descriptions.
    assert search("inconnu", filters=OURS).hits[0].kind == "code_list"
    assert all(hit.kind != "code_list" for hit in search("patient", filters=OURS).hits[:2])


def test_code_label_terms_get_no_trigrams(tmp_path: Path) -> None:
    from hdh.catalog.models import SearchGram

    base = create_test_base(title="Registre des zygomycoses", data_holder=HOLDER)
    import_small(base, tmp_path)
    masculin = SearchTerm.objects.get(term="masculin")
    assert not SearchGram.objects.filter(term_id=masculin.pk).exists()
    assert SearchGram.objects.filter(term__term="zygomycose").exists()
    # Hence no typo matching on code labels, by design.
    assert search("masculim").total == 0 or all(
        hit.kind != "code_list" for hit in search("masculim").hits
    )


def test_the_acceptance_queries_are_not_drowned_by_code_labels(catalog: str) -> None:
    assert search("urgences").hits[0].name == "OSCOUR"
    assert search("ER_PRS_F").hits[0].name == "ER_PRS_F"
    assert all(hit.kind == "variable" for hit in search("NIR").hits[:5])
