"""Search over the demo catalog: expected hits first, typos, partial codes, facets, input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import call_command

from hdh.catalog.models import Base
from hdh.catalog.search.query import search
from hdh.catalog.search.text import fold, tokens
from hdh.catalog.services.bases import update_base
from tests.factories.catalog import create_test_base, import_small

pytestmark = pytest.mark.django_db


def _first(query: str) -> tuple[str, str, str]:
    hit = search(query).hits[0]
    return hit.kind, hit.name, hit.base_slug


def test_nir_finds_the_beneficiary_identifiers_first(catalog: str) -> None:
    hits = search("NIR").hits[:5]
    assert all(hit.kind == "variable" and "NIR" in hit.name.upper() for hit in hits)
    assert "BEN_NIR_PSA" in {hit.name for hit in search("NIR", limit=10).hits}


def test_date_de_naissance_finds_birth_dates(catalog: str) -> None:
    hits = search("date de naissance").hits[:5]
    assert all(hit.kind == "variable" for hit in hits)
    assert all(
        "date de naissance" in fold(hit.title).replace("«", "")
        or ("date" in fold(hit.title) and "naissance" in fold(hit.title))
        for hit in hits
    )


@pytest.mark.parametrize(
    "query",
    [
        "diagnostic principal",
        "diagnostique principal",
        "DIAGNOSTIC PRINCIPAL",
        "diagnostic principaux",
    ],
)
def test_diagnostic_principal_finds_the_principal_diagnosis(catalog: str, query: str) -> None:
    hits = search(query).hits[:5]
    assert all(hit.kind == "variable" for hit in hits)
    assert all("diagnostic principal" in fold(hit.title) for hit in hits)
    names = {hit.name for hit in search(query, limit=10).hits}
    assert {"DGN_PAL", "DP"} <= names


def test_urgences_finds_oscour_first(catalog: str) -> None:
    assert _first("urgences") == ("base", "OSCOUR", "oscour")
    assert _first("Urgence") == ("base", "OSCOUR", "oscour")


@pytest.mark.parametrize("query", ["ER_PRS_F", "er_prs_f", "ER_PRS", "ER_PR"])
def test_a_table_name_or_its_beginning_finds_the_table(catalog: str, query: str) -> None:
    assert _first(query) == ("table", "ER_PRS_F", "snds")


@pytest.mark.parametrize(
    ("query", "name"),
    [("DGN_PAL", "DGN_PAL"), ("dgn pal", "DGN_PAL"), ("BEN_NIR_PS", "BEN_NIR_PSA")],
)
def test_a_variable_name_or_part_of_it_finds_the_variable(
    catalog: str, query: str, name: str
) -> None:
    kind, found, _ = _first(query)
    assert (kind, found) == ("variable", name)


def test_accents_and_case_do_not_matter(catalog: str) -> None:
    plain = [h.name for h in search("cepidc deces").hits]
    accented = [h.name for h in search("CépiDc DÉCÈS").hits]
    assert plain == accented
    assert plain


def test_a_code_list_is_found_by_its_title(catalog: str) -> None:
    names = [hit.name for hit in search("classification clinique des malades").hits[:3]]
    assert "CCMU" in names


def test_a_variable_hit_shows_its_table_and_base(catalog: str) -> None:
    hit = search("DGN_PAL").hits[0]
    assert hit.table_name
    assert hit.base_slug == "snds"
    assert hit.url == f"/catalogue/bases/snds/tables/{hit.table_name}/DGN_PAL/"


def test_facets_count_and_filter(catalog: str) -> None:
    results = search("sexe")
    kinds = {value.value: value.count for value in results.facets["kind"]}
    assert kinds["variable"] >= 10
    assert {value.value for value in results.facets["data_holder"]} >= {
        "Caisse nationale de l'Assurance Maladie (Cnam)"
    }
    only_tables = search("prestations", filters={"kind": "table"})
    assert only_tables.hits
    assert all(hit.kind == "table" for hit in only_tables.hits)
    dcir = search("prestations", filters={"product": "DCIR"})
    assert dcir.hits
    assert all(hit.product == "DCIR" for hit in dcir.hits)
    holder = search("urgences", filters={"data_holder": "Santé publique France"})
    assert {hit.base_slug for hit in holder.hits} == {"oscour"}
    assert search("sexe", filters={"kind": "no-such-kind"}).total == 0


def test_words_that_never_meet_give_the_closest_partial_matches(catalog: str) -> None:
    results = search("urgences xylophone")
    assert results.partial
    assert results.hits[0].name == "OSCOUR"


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        "de la",
        "' OR 1=1 --",
        "%",
        "_",
        "%%__",
        "\x00",
        "a" * 10_000,
        "ER_PRS_F; DROP TABLE catalog_base;",
        "日本語の検索",
        "😀 urgences",
        "\u202e\u0301",
        "diagnostic " * 500,
        "SELECT * FROM catalog_searchterm WHERE term LIKE '%'",
    ],
)
def test_hostile_queries_return_cleanly(catalog: str, query: str) -> None:
    results = search(query)
    assert results.total >= 0
    assert len(results.hits) <= 20
    assert Base.objects.filter(slug="snds").exists()


def test_a_base_change_is_searchable_at_once(catalog: str) -> None:
    base = create_test_base(title="Registre des zygomycoses")
    assert search("zygomycose").hits[0].base_slug == base.slug
    update_base(base=base, by=None, title="Registre des aspergilloses")
    # The SNDS's code labels still hold the word; the base no longer does.
    assert all(hit.base_slug != base.slug for hit in search("zygomycose").hits)
    assert search("aspergillose").hits[0].base_slug == base.slug


def test_folding() -> None:
    assert fold("Œdème Éléphant ÇA") == "oedeme elephant ca"
    assert tokens("Les urgences de l'hôpital") == ["urgence", "hopital"]


def test_the_command_prints_json(catalog: str, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("catalog", "search", "urgences", "--json")
    data = json.loads(capsys.readouterr().out)
    assert data["hits"][0]["base"] == "oscour"
    assert data["hits"][0]["url"] == "/catalogue/bases/oscour/"
    assert "kind" in data["facets"]
    call_command("catalog", "search", "ER_PRS_F", "--kind", "table")
    assert "[table] ER_PRS_F" in capsys.readouterr().out


def test_reindex_command(catalog: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("catalog", "reindex")
    assert "reindexed" in capsys.readouterr().out
    assert _first("urgences") == ("base", "OSCOUR", "oscour")


def test_the_benchmark_command_reports_latencies(
    catalog: str, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("catalog", "benchmark-search", "--repeat", "1")
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["page", "api", "search()"]
    assert all("n=6" in line for line in lines)


def test_an_entry_edit_updates_the_facets_of_its_dictionary(tmp_path: Path) -> None:
    base = create_test_base(data_holder="Ancien responsable")
    import_small(base, tmp_path)
    update_base(base=base, by=None, data_holder="Nouveau responsable", medical_domain="cancers")
    results = search("sexe patient")
    holders = {value.value for value in results.facets["data_holder"]}
    assert "Nouveau responsable" in holders
    assert "Ancien responsable" not in holders
    assert {v.value for v in results.facets["medical_domain"]} >= {"cancers"}
    assert search("patient", filters={"data_holder": "Nouveau responsable"}).total >= 2


def test_a_generated_catalog_is_searchable(capsys: pytest.CaptureFixture[str]) -> None:
    call_command(
        "catalog", "generate-synthetic", "--bases", "2", "--tables", "2", "--variables", "5"
    )
    assert "generated 20 variables" in capsys.readouterr().out
    assert Base.objects.filter(slug__startswith="synthetique-").count() == 2
    hits = search("synthetique", filters={"kind": "base"}).hits
    assert {hit.base_slug for hit in hits} >= {"synthetique-1", "synthetique-2"}


@pytest.mark.parametrize(
    "query",
    [
        "date de naissance",
        "diagnostic principal",
        "sexe patient",
        "montant prestation",
        "code commune residence",
    ],
)
def test_reading_the_rarest_word_first_changes_nothing(
    catalog: str, monkeypatch: pytest.MonkeyPatch, query: str
) -> None:
    fast = search(query, limit=50)
    monkeypatch.setattr("hdh.catalog.search.query.RESTRICT_BELOW", 0)
    slow = search(query, limit=50)
    assert fast.total == slow.total
    assert [(h.kind, h.name, h.table_name) for h in fast.hits] == [
        (h.kind, h.name, h.table_name) for h in slow.hits
    ]
    assert fast.facets == slow.facets
