"""Several common words: the documents holding every word are found in SQL (the rarest
word's postings walked in the index's order, the others probed), and only those are
scored. On the demo catalog, forced onto that path, the page is the full read's."""

from __future__ import annotations

import pytest

from hdh.catalog.models import SearchPosting
from hdh.catalog.search import query
from hdh.catalog.search.query import search
from hdh.catalog.search.text import tokens

pytestmark = pytest.mark.django_db

MULTI = [
    "date de naissance",
    "diagnostic principal",
    "diagnostique principal",
    "ER_PRS_F",
    "ER_PR",
    "BEN_NIR",
    "DGN_PA",
    "sexe patient",
    "montant prestation",
    "code commune residence",
]


def _forced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(query, "BOUNDED_ABOVE", 0)


def _names(results: query.Results) -> list[tuple[str, str, str]]:
    return [(h.kind, h.name, h.table_name) for h in results.hits]


@pytest.mark.parametrize("text", MULTI)
def test_the_sql_intersection_gives_the_full_reads_page(
    catalog: str, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    exact = [search(text, offset=offset) for offset in (0, 20)]
    _forced(monkeypatch)
    forced = [search(text, offset=offset) for offset in (0, 20)]
    for full, cut in zip(exact, forced, strict=True):
        assert _names(cut) == _names(full)
        assert cut.partial == full.partial
        if not cut.approximate:
            assert cut.total == full.total
            assert cut.facets == full.facets


@pytest.mark.parametrize("text", ["date de naissance", "diagnostic principal", "ER_PRS_F"])
def test_the_walks_find_exactly_the_documents_holding_every_word(catalog: str, text: str) -> None:
    words = list(dict.fromkeys(tokens(text)))
    matches, _forms, sizes = query._candidates(words)
    by_word = query._by_word(matches, len(words))
    spread = [sum(sizes.get(t, 0) for t in ids) for ids in by_word]
    order = sorted(range(len(words)), key=spread.__getitem__)
    rarest, others = by_word[order[0]], [by_word[i] for i in order[1:]]
    found, complete = query._meeting(matches, rarest, others, sizes, {}, 10**6, 10**6)
    assert complete

    def documents(term_ids: list[int]) -> set[int]:
        return set(
            SearchPosting.objects.filter(term_id__in=term_ids).values_list("document_id", flat=True)
        )

    expected = documents(rarest)
    for term_ids in others:
        expected &= documents(term_ids)
    assert expected
    assert sorted(found) == sorted(expected)


def test_a_cut_walk_keeps_the_first_hits_and_says_its_total_is_an_estimate(
    catalog: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    exact = search("date de naissance")
    _forced(monkeypatch)
    # Only the best few documents of each term of the rarest word are looked for.
    monkeypatch.setattr(query, "RERANKED", 5)
    cut = search("date de naissance", limit=5)
    assert cut.approximate
    assert cut.hits[0].name == exact.hits[0].name
    assert cut.total >= len(cut.hits)
    assert sum(v.count for v in cut.facets["kind"]) == cut.sampled


def test_the_exact_identifier_wins_on_the_sql_intersection(
    catalog: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _forced(monkeypatch)
    monkeypatch.setattr(query, "RERANKED", 1)
    hits = search("ER_PRS_F", limit=1).hits
    assert (hits[0].kind, hits[0].name) == ("table", "ER_PRS_F")


def test_the_sql_intersection_honours_the_filters(
    catalog: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    exact = search("date naissance", filters={"kind": "variable"}, limit=50)
    _forced(monkeypatch)
    forced = search("date naissance", filters={"kind": "variable"}, limit=50)
    assert forced.hits
    assert all(hit.kind == "variable" for hit in forced.hits)
    assert _names(forced) == _names(exact)
    holder = search("passages urgences", filters={"data_holder": "Santé publique France"})
    assert {hit.base_slug for hit in holder.hits} <= {"oscour"}
    assert not search("date naissance", filters={"product": "no such product"}).hits


def test_words_that_never_meet_fall_back_to_partial_matches(
    catalog: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    exact = search("naissance xylophone")
    _forced(monkeypatch)
    forced = search("naissance xylophone")
    assert forced.partial
    assert forced.hits
    assert forced.hits[0].name == exact.hits[0].name


@pytest.mark.parametrize(
    "text",
    [
        "date' OR 1=1 -- naissance",
        "date) OR EXISTS (SELECT 1) --",
        "% _ date naissance",
        "date\x00 naissance",
        "date naissance " + "ab" * 200,
        " ".join(["date", "code", "patient", "naissance", "montant", "sexe", "base", "table"] * 3),
        "ER_PRS_F; DROP TABLE catalog_searchposting",
    ],
)
def test_hostile_multi_word_queries_are_clean(
    catalog: str, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    _forced(monkeypatch)
    results = search(text, filters={"kind": "variable", "product": "'; DROP TABLE x; --\x00"})
    assert results.hits == []
    assert results.total >= 0
    results = search(text, limit=5, offset=3)
    assert len(results.hits) <= 5
    assert SearchPosting.objects.exists()
