"""Bounded reading of common words: the page comes from the best postings of each
term, the counts the indexer keeps match the index, the first hits stay exact."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import Count

from hdh.catalog.models import SearchCounter, SearchDocument, SearchPosting, SearchTerm
from hdh.catalog.search import query
from hdh.catalog.search.index import DOCUMENTS, impact
from hdh.catalog.search.query import search
from hdh.catalog.services.bases import update_base
from tests.factories.catalog import create_test_base, import_small

pytestmark = pytest.mark.django_db

ACCEPTANCE = [
    ("NIR", "variable"),
    ("date de naissance", "variable"),
    ("diagnostic principal", "variable"),
    ("urgences", "base"),
    ("ER_PRS_F", "table"),
    ("diagnostique principal", "variable"),
]


def _bounded(monkeypatch: pytest.MonkeyPatch, sample: int = 50) -> None:
    monkeypatch.setattr(query, "BOUNDED_ABOVE", 0)
    monkeypatch.setattr(query, "SAMPLE", sample)


def _names(results: query.Results) -> list[tuple[str, str, str]]:
    return [(h.kind, h.name, h.table_name) for h in results.hits]


def _counts_match_the_index() -> None:
    counted = dict(
        SearchPosting.objects.values("term_id").annotate(n=Count("id")).values_list("term_id", "n")
    )
    kept = dict(SearchTerm.objects.values_list("pk", "documents"))
    assert {pk: n for pk, n in kept.items() if n} == counted
    stored = SearchCounter.objects.get(name=DOCUMENTS).value
    assert stored == SearchDocument.objects.count()


@pytest.mark.parametrize(("text", "kind"), ACCEPTANCE)
def test_acceptance_queries_keep_their_first_hits_when_bounded(
    catalog: str, monkeypatch: pytest.MonkeyPatch, text: str, kind: str
) -> None:
    exact = search(text)
    _bounded(monkeypatch)
    bounded = search(text)
    assert bounded.hits[0].kind == kind
    assert _names(bounded)[:5] == _names(exact)[:5]


@pytest.mark.parametrize("text", ["code", "date", "patient", "NIR", "urgences", "montant"])
def test_one_word_gives_exactly_the_same_page_when_bounded(
    catalog: str, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    exact = [search(text, offset=offset) for offset in (0, 20)]
    _bounded(monkeypatch)
    bounded = [search(text, offset=offset) for offset in (0, 20)]
    for full, cut in zip(exact, bounded, strict=True):
        assert _names(cut) == _names(full)


def test_a_bounded_read_says_its_total_is_an_estimate(
    catalog: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    exact = search("code")
    assert not exact.approximate
    _bounded(monkeypatch)
    bounded = search("code")
    assert bounded.approximate
    assert bounded.sampled < exact.total
    # One word: the estimate is the postings of its terms, at least the true total.
    assert exact.total <= bounded.total <= 2 * exact.total
    assert sum(v.count for v in bounded.facets["kind"]) == bounded.sampled


def test_a_bounded_read_honours_the_filters(catalog: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _bounded(monkeypatch)
    tables = search("prestations", filters={"kind": "table"})
    assert tables.hits
    assert all(hit.kind == "table" for hit in tables.hits)
    holder = search("urgences", filters={"data_holder": "Santé publique France"})
    assert {hit.base_slug for hit in holder.hits} == {"oscour"}
    named = search("ER_PRS_F", filters={"kind": "variable"})
    assert all(hit.kind == "variable" for hit in named.hits)


def test_words_that_never_meet_still_give_partial_matches_when_bounded(
    catalog: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _bounded(monkeypatch)
    results = search("urgences xylophone")
    assert results.partial
    assert results.hits[0].name == "OSCOUR"


@pytest.mark.parametrize("text", ["' OR 1=1 --", "%", "_", "a" * 300, "code " * 50, "\x00code"])
def test_hostile_queries_are_clean_when_bounded(
    catalog: str, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    _bounded(monkeypatch)
    results = search(text, filters={"product": "'; DROP TABLE catalog_base; --\x00"})
    assert results.total >= 0
    assert results.hits == []


def test_the_index_counts_follow_imports_edits_and_reindex(tmp_path: Path) -> None:
    base = create_test_base(title="Registre des zygomycoses")
    _counts_match_the_index()
    import_small(base, tmp_path)
    _counts_match_the_index()
    update_base(base=base, by=None, title="Registre des aspergilloses", data_holder="Autre")
    _counts_match_the_index()
    call_command("catalog", "reindex")
    _counts_match_the_index()


def test_postings_carry_their_reading_order(tmp_path: Path) -> None:
    base = create_test_base(title="Registre des zygomycoses")
    import_small(base, tmp_path)
    rows = SearchPosting.objects.values_list("weight", "document__kind", "impact")
    assert rows
    assert all(value == impact(weight, kind) for weight, kind, value in rows)
    assert impact(10, "base") > impact(10, "table") > impact(10, "variable")
