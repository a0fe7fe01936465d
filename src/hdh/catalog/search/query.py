"""Answering a search: one box over bases, tables, variables and code lists.

Each query word is matched against the index terms exactly, as a prefix (partial
codes: "ER_PR", "DGN_P") and, from four letters, by trigram similarity (typos:
"diagnostique" finds "diagnostic"). A document scores the best match of each
word times the weight of the field it was found in, times the word's rarity;
documents that match every word come first; bases outrank tables, tables
variables, at equal match; an exact identifier ("ER_PRS_F") wins outright.
Everything is computed from the index tables, so both databases rank alike.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count
from django.db.models.functions import Length
from django.urls import reverse

from hdh.catalog.models import DocumentKind, SearchDocument, SearchGram, SearchPosting, SearchTerm
from hdh.catalog.search import text
from hdh.catalog.vocabularies import MedicalDomain

MAX_QUERY = 200
MAX_WORDS = 8
PREFIX_EXPANSIONS = 30
FUZZY_CANDIDATES = 60
FUZZY_MIN_SIMILARITY = 0.45
KIND_BOOST: dict[str, float] = {
    DocumentKind.BASE: 3.0,
    DocumentKind.TABLE: 2.0,
    DocumentKind.VARIABLE: 1.5,
    DocumentKind.CODE_LIST: 1.2,
    DocumentKind.CODE: 1.0,
}
EXACT_NAME_BONUS = 1000.0
# Below this many postings, the rarest word of a query decides where the others are read.
RESTRICT_BELOW = 5000
IN_CHUNK = 900
# How many of the best documents are re-ranked by whether their title holds the
# query words side by side ("diagnostic principal" before "diagnostics … principal").
RERANKED = 200
FACETS = {
    "kind": "document__kind",
    "medical_domain": "document__medical_domain",
    "data_holder": "document__data_holder",
    "product": "document__product",
}


@dataclass(frozen=True)
class Hit:
    kind: str
    name: str
    title: str
    snippet: str
    base_slug: str
    base_name: str
    table_name: str
    code_list_name: str
    product: str
    score: float

    @property
    def url(self) -> str:
        if self.kind == DocumentKind.BASE:
            return reverse("catalog:base", kwargs={"slug": self.base_slug})
        if self.kind == DocumentKind.TABLE:
            return reverse("catalog:table", kwargs={"slug": self.base_slug, "table": self.name})
        if self.kind == DocumentKind.VARIABLE:
            return reverse(
                "catalog:variable",
                kwargs={"slug": self.base_slug, "table": self.table_name, "variable": self.name},
            )
        return reverse(
            "catalog:code_list", kwargs={"slug": self.base_slug, "name": self.code_list_name}
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "title": self.title,
            "snippet": self.snippet,
            "base": self.base_slug,
            "base_name": self.base_name,
            "table": self.table_name,
            "code_list": self.code_list_name,
            "product": self.product,
            "score": round(self.score, 3),
            "url": self.url,
        }


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool


@dataclass
class Results:
    query: str
    total: int = 0
    hits: list[Hit] = field(default_factory=list)
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    # True when no document matched every word and partial matches are shown.
    partial: bool = False


@dataclass
class _Scored:
    kind: str
    key: str
    facets: tuple[str, str, str, str]
    best: dict[int, float] = field(default_factory=dict)


def _candidates(
    words: list[str],
) -> tuple[dict[int, list[tuple[int, float]]], list[set[str]]]:
    """Index term id → [(word index, match score)] for every way a word matches, and
    for each word the terms it stands for."""
    matches: dict[int, list[tuple[int, float]]] = defaultdict(list)
    forms: list[set[str]] = [{word} for word in words]
    exact = dict(SearchTerm.objects.filter(term__in=words).values_list("term", "pk"))
    for index, word in enumerate(words):
        if word in exact:
            matches[exact[word]].append((index, 1.0))
        if len(word) >= 2:
            prefixed = (
                SearchTerm.objects.filter(term__startswith=word)
                .exclude(term=word)
                .order_by(Length("term"), "term")
                .values_list("pk", "term")[:PREFIX_EXPANSIONS]
            )
            for pk, term in prefixed:
                matches[pk].append((index, 0.8 * max(len(word) / len(term), 0.5)))
                forms[index].add(term)
        if len(word) >= 4 and not word.isdigit():
            grams = text.trigrams(word)
            near = (
                SearchGram.objects.filter(gram__in=grams)
                .values("term_id")
                .annotate(shared=Count("id"))
                .filter(shared__gte=max(2, math.ceil(len(grams) * 0.4)))
                .order_by("-shared", "term_id")
                .values_list("term_id", flat=True)[:FUZZY_CANDIDATES]
            )
            for pk, term in SearchTerm.objects.filter(pk__in=list(near)).values_list("pk", "term"):
                if term == word or term.startswith(word):
                    continue
                similarity = text.similarity(word, term)
                if similarity >= FUZZY_MIN_SIMILARITY:
                    matches[pk].append((index, 0.9 * similarity))
                    forms[index].add(term)
    return matches, forms


def _read(
    scored: dict[int, _Scored],
    matches: dict[int, list[tuple[int, float]]],
    term_ids: list[int],
    filters: dict[str, str],
    within: list[int] | None,
) -> None:
    """Score the postings of ``term_ids`` (only in documents ``within``, if given)."""
    postings = SearchPosting.objects.filter(term_id__in=term_ids)
    for name, value in filters.items():
        postings = postings.filter(**{FACETS[name]: value[:200]})
    columns = (
        "document_id",
        "term_id",
        "weight",
        "document__kind",
        "document__key",
        *FACETS.values(),
    )
    chunks = (
        [None]
        if within is None
        else [within[start : start + IN_CHUNK] for start in range(0, len(within), IN_CHUNK)]
    )
    for chunk in chunks:
        rows = postings if chunk is None else postings.filter(document_id__in=chunk)
        # A plain fetch: a server-side cursor (iterator) costs PostgreSQL extra round trips.
        for doc_id, term_id, weight, kind, key, *facets in rows.values_list(*columns):
            doc = scored.get(doc_id)
            if doc is None:
                doc = scored[doc_id] = _Scored(kind, key, tuple(facets))
            for index, score in matches[term_id]:
                value = score * weight
                if doc.best.get(index, 0.0) < value:
                    doc.best[index] = value


def _collect(
    matches: dict[int, list[tuple[int, float]]], words: int, filters: dict[str, str]
) -> tuple[dict[int, _Scored], list[int]]:
    """The scored documents, and for each word how many postings its terms have.

    With several words, the rarest is read first and the others only in the
    documents it found, so a common word ("date") costs no more than a rare one
    ("naissance"); when no document holds every word, everything is read and the
    closest partial matches are ranked.
    """
    by_word: list[list[int]] = [[] for _ in range(words)]
    for term_id, uses in matches.items():
        for index, _ in uses:
            by_word[index].append(term_id)
    sizes = dict(
        SearchPosting.objects.filter(term_id__in=list(matches))
        .values("term_id")
        .annotate(n=Count("id"))
        .values_list("term_id", "n")
    )
    spread = [sum(sizes.get(term_id, 0) for term_id in ids) for ids in by_word]
    scored: dict[int, _Scored] = {}
    rarest = min(range(words), key=spread.__getitem__)
    if words > 1 and 0 < spread[rarest] <= RESTRICT_BELOW:
        _read(scored, matches, by_word[rarest], filters, None)
        found = list(scored)
        for index in sorted(range(words), key=spread.__getitem__)[1:]:
            if found:
                _read(scored, matches, by_word[index], filters, found)
        if any(len(doc.best) == words for doc in scored.values()):
            return scored, spread
        scored = {}
    _read(scored, matches, list(matches), filters, None)
    return scored, spread


def _facet_label(name: str, value: str) -> str:
    if name == "kind":
        return str(DocumentKind(value).label) if value in DocumentKind.values else value
    if name == "medical_domain":
        return str(MedicalDomain(value).label) if value in MedicalDomain.values else value
    return value


def search(
    query: str, *, filters: dict[str, str] | None = None, limit: int = 20, offset: int = 0
) -> Results:
    """Ranked hits for ``query``, with facet counts; ``filters`` maps facet → value."""
    query = (query or "")[:MAX_QUERY]
    filters = {k: v for k, v in (filters or {}).items() if k in FACETS and v}
    results = Results(query=query)
    words = list(dict.fromkeys(text.tokens(query)))[:MAX_WORDS]
    if not words:
        return results
    matches, forms = _candidates(words)
    if not matches:
        return results
    scored, spread = _collect(matches, len(words), filters)
    if not scored:
        return results
    total_docs = max(SearchDocument.objects.count(), 1)
    rarity = [math.log(1 + total_docs / f) if f else 0.0 for f in spread]
    full = [doc_id for doc_id, doc in scored.items() if len(doc.best) == len(words)]
    results.partial = not full
    chosen = full or list(scored)
    query_key = text.key(query.strip())

    def rank(doc_id: int) -> tuple[float, int]:
        doc = scored[doc_id]
        score = sum(value * rarity[i] for i, value in doc.best.items())
        score *= KIND_BOOST.get(doc.kind, 1.0)
        if doc.key == query_key:
            score += EXACT_NAME_BONUS
        return (-(len(doc.best) * 1e6 + score), doc_id)

    chosen.sort(key=rank)
    if len(words) > 1:
        chosen[:RERANKED] = _phrases_first(chosen[:RERANKED], forms)
    results.total = len(chosen)
    results.facets = _facets(chosen, scored, filters)
    page = chosen[offset : offset + limit]
    results.hits = _hydrate(page, scored, rank)
    return results


def _holds_phrase(title: str, forms: list[set[str]]) -> bool:
    words = text.tokens(title)
    span = len(forms)
    return any(
        all(words[start + k] in forms[k] for k in range(span))
        for start in range(len(words) - span + 1)
    )


def _phrases_first(head: list[int], forms: list[set[str]]) -> list[int]:
    """Stable re-order of ``head``: documents whose title holds the phrase first."""
    titles = dict(SearchDocument.objects.filter(pk__in=head).values_list("pk", "title"))
    with_phrase = [pk for pk in head if _holds_phrase(titles.get(pk, ""), forms)]
    found = set(with_phrase)
    return with_phrase + [pk for pk in head if pk not in found]


def _facets(
    chosen: list[int], scored: dict[int, _Scored], filters: dict[str, str]
) -> dict[str, list[FacetValue]]:
    counts: dict[str, dict[str, int]] = {name: defaultdict(int) for name in FACETS}
    for doc_id in chosen:
        for name, value in zip(FACETS, scored[doc_id].facets, strict=True):
            if value:
                counts[name][value] += 1
    return {
        name: [
            FacetValue(value, _facet_label(name, value), count, filters.get(name) == value)
            for value, count in sorted(values.items(), key=lambda item: (-item[1], item[0]))
        ][:30]
        for name, values in counts.items()
    }


def _hydrate(page: list[int], scored: dict[int, _Scored], rank: Any) -> list[Hit]:
    rows = {
        row["pk"]: row
        for row in SearchDocument.objects.filter(pk__in=page).values(
            "pk",
            "kind",
            "name",
            "title",
            "snippet",
            "table_name",
            "code_list_name",
            "product",
            "base__slug",
            "base__acronym",
            "base__title",
        )
    }
    return [
        Hit(
            kind=rows[pk]["kind"],
            name=rows[pk]["name"],
            title=rows[pk]["title"],
            snippet=rows[pk]["snippet"],
            base_slug=rows[pk]["base__slug"],
            base_name=rows[pk]["base__acronym"] or rows[pk]["base__title"],
            table_name=rows[pk]["table_name"],
            code_list_name=rows[pk]["code_list_name"],
            product=rows[pk]["product"],
            score=-rank(pk)[0] % 1e6,
        )
        for pk in page
        if pk in rows
    ]
