"""Answering a search: one box over bases, tables, variables and code lists.

Each query word is matched against the index terms exactly, as a prefix (partial
codes: "ER_PR", "DGN_P") and, from four letters, by trigram similarity (typos:
"diagnostique" finds "diagnostic"). A document scores the best match of each
word times the weight of the field it was found in, times the word's rarity;
documents that match every word come first; bases outrank tables, tables
variables, at equal match; an exact identifier ("ER_PRS_F") wins outright.
Everything is computed from the index tables, so both databases rank alike.

When a query's words reach few postings, every one is read and scored
(exact ranking, total and facets). When they reach many (a common word in a
catalog of a million variables), only the best postings of each term are read,
in the order of the index (weight times kind boost), so the cost is bounded by
the page, not by the catalog: the first hits are still exact for one word. For
several words, the documents holding every word are found in SQL: the rarest
word's postings are walked in the index's order, each probed with ``EXISTS`` on
the other words' ``(term, document)`` index, ``LIMIT`` a few hundred, and only
those documents are scored; the first hits are the best among the documents
where the rarest word weighs most. The total is then an estimate and the facets
count the documents read (``Results.approximate``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Count
from django.db.models.functions import Length
from django.urls import reverse
from django.utils.http import urlencode

from hdh.catalog.models import (
    DocumentKind,
    SearchCounter,
    SearchDocument,
    SearchGram,
    SearchPosting,
    SearchTerm,
)
from hdh.catalog.search import text
from hdh.catalog.search.index import CODE_LABEL, DOCUMENTS, KIND_BOOST
from hdh.catalog.vocabularies import MedicalDomain

MAX_QUERY = 200
MAX_WORDS = 8
PREFIX_EXPANSIONS = 30
FUZZY_CANDIDATES = 60
FUZZY_MIN_SIMILARITY = 0.45
EXACT_NAME_BONUS = 1000.0
# Below this many postings, the rarest word of a query decides where the others are read.
RESTRICT_BELOW = 5000
# Above this many postings in all, a query reads only the best postings of each term.
BOUNDED_ABOVE = 3000
# How many postings of each term a bounded read takes at first (it is also how many
# documents the facets are counted on), and at most when several words must meet.
SAMPLE = 1000
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
    # For a code list found through the labels of its codes: the words to look
    # for among them, so its page opens on the matching codes.
    codes_query: str = ""

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
        url = reverse(
            "catalog:code_list", kwargs={"slug": self.base_slug, "name": self.code_list_name}
        )
        return f"{url}?{urlencode({'q': self.codes_query})}" if self.codes_query else url

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
            "in_codes": bool(self.codes_query),
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
    # True when the total is an estimate and the facets count only the best
    # ``sampled`` documents (bounded reading of common words).
    approximate: bool = False
    sampled: int = 0


@dataclass
class _Scored:
    kind: str
    key: str
    facets: tuple[str, str, str, str]
    best: dict[int, float] = field(default_factory=dict)
    # The heaviest field weight a word was found with (code labels weigh least).
    weight: int = 0


def _candidates(
    words: list[str],
) -> tuple[dict[int, list[tuple[int, float]]], list[set[str]], dict[int, int]]:
    """Index term id → [(word index, match score)] for every way a word matches, for
    each word the terms it stands for, and each matched term's document count."""
    matches: dict[int, list[tuple[int, float]]] = defaultdict(list)
    forms: list[set[str]] = [{word} for word in words]
    sizes: dict[int, int] = {}
    exact = {
        term: (pk, n)
        for term, pk, n in SearchTerm.objects.filter(term__in=words).values_list(
            "term", "pk", "documents"
        )
    }
    for index, word in enumerate(words):
        if word in exact:
            pk, sizes[pk] = exact[word]
            matches[pk].append((index, 1.0))
        if len(word) >= 2:
            starting = SearchTerm.objects.filter(term__startswith=word)
            if connection.vendor == "sqlite":
                # SQLite's LIKE cannot use the term index; a range can (terms are
                # [a-z0-9]+ and SQLite compares them byte by byte: "{" follows "z").
                starting = starting.filter(term__gte=word, term__lt=word + "{")
            prefixed = (
                starting.exclude(term=word)
                .order_by(Length("term"), "term")
                .values_list("pk", "term", "documents")[:PREFIX_EXPANSIONS]
            )
            for pk, term, n in prefixed:
                matches[pk].append((index, 0.8 * max(len(word) / len(term), 0.5)))
                forms[index].add(term)
                sizes[pk] = n
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
            similar = SearchTerm.objects.filter(pk__in=list(near)).values_list(
                "pk", "term", "documents"
            )
            for pk, term, n in similar:
                if term == word or term.startswith(word):
                    continue
                similarity = text.similarity(word, term)
                if similarity >= FUZZY_MIN_SIMILARITY:
                    matches[pk].append((index, 0.9 * similarity))
                    forms[index].add(term)
                    sizes[pk] = n
    return matches, forms, sizes


def _read(
    scored: dict[int, _Scored],
    matches: dict[int, list[tuple[int, float]]],
    term_ids: list[int],
    filters: dict[str, str],
    within: list[int] | None,
) -> None:
    """Score the postings of ``term_ids`` (only in documents ``within``, if given)."""
    if within is None:
        _score(scored, matches, _postings(term_ids, filters))
        return
    if connection.vendor == "postgresql" and term_ids:
        lists = set(
            SearchDocument.objects.filter(pk__in=within, kind=DocumentKind.CODE_LIST).values_list(
                "pk", flat=True
            )
        )
        if lists:
            _score(scored, matches, _postings_by_term(term_ids, filters, sorted(lists)))
            within = [pk for pk in within if pk not in lists]
    for start in range(0, len(within), IN_CHUNK):
        chunk = within[start : start + IN_CHUNK]
        _score(scored, matches, _postings(term_ids, filters, within=chunk))


def _postings(
    term_ids: list[int],
    filters: dict[str, str],
    *,
    within: list[int] | None = None,
    best: int | None = None,
) -> list[tuple[Any, ...]]:
    """Postings of ``term_ids`` with what scoring needs of their documents: document id,
    term id, weight, kind, key and the facet values (:data:`FACETS` order); only in
    documents ``within``, or only the ``best`` of one term in the index's order.

    Plain SQL: it runs several times per search, where building ORM queries
    (hundreds of ids in an ``IN``) cost more than the database did.
    """
    quote = connection.ops.quote_name
    columns = ", ".join(f"d.{quote(FACETS[name].removeprefix('document__'))}" for name in FACETS)
    marks = ", ".join(["%s"] * len(term_ids))
    sql = (
        f"SELECT p.document_id, p.term_id, p.weight, d.kind, d.{quote('key')}, {columns} "  # noqa: S608
        f"FROM {quote(SearchPosting._meta.db_table)} p "
        f"JOIN {quote(SearchDocument._meta.db_table)} d ON d.id = p.document_id "
        f"WHERE p.term_id IN ({marks})"
    )
    params: list[Any] = list(term_ids)
    for name, value in filters.items():
        sql += f" AND d.{quote(FACETS[name].removeprefix('document__'))} = %s"
        params.append(value[:200])
    if within is not None:
        sql += f" AND p.document_id IN ({', '.join(['%s'] * len(within))})"
        params.extend(within)
    if best is not None:
        sql += " ORDER BY p.impact DESC, p.document_id LIMIT %s"
        params.append(best)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _postings_by_term(
    term_ids: list[int], filters: dict[str, str], within: list[int]
) -> list[tuple[Any, ...]]:
    """:func:`_postings` of ``term_ids`` in documents ``within`` that hold thousands of
    postings each (code lists: every label of every code), on PostgreSQL: one probe
    of the ``(document, term)`` index per term, where reading the documents' postings
    and keeping the few of ``term_ids`` read them all (measured at 1,000,000
    variables: nine code lists, 73,807 postings read for 69 kept, 18 ms; probed, 3 ms).
    ``OFFSET 0`` keeps the probe per term (PostgreSQL would otherwise hash-join the
    terms against all the documents' postings)."""
    quote = connection.ops.quote_name
    columns = ", ".join(f"d.{quote(FACETS[name].removeprefix('document__'))}" for name in FACETS)
    sql = (
        f"SELECT x.document_id, x.term_id, x.weight, d.kind, d.{quote('key')}, {columns} "  # noqa: S608
        f"FROM unnest(%s::bigint[]) AS t(id) CROSS JOIN LATERAL ("
        f"SELECT p.document_id, p.term_id, p.weight "
        f"FROM {quote(SearchPosting._meta.db_table)} p "
        f"WHERE p.term_id = t.id AND p.document_id = ANY(%s::bigint[]) OFFSET 0) x "
        f"JOIN {quote(SearchDocument._meta.db_table)} d ON d.id = x.document_id WHERE 1 = 1"
    )
    params: list[Any] = [list(term_ids), list(within)]
    for name, value in filters.items():
        sql += f" AND d.{quote(FACETS[name].removeprefix('document__'))} = %s"
        params.append(value[:200])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _score(
    scored: dict[int, _Scored], matches: dict[int, list[tuple[int, float]]], rows: Any
) -> int:
    """Fold posting ``rows`` (as :data:`COLUMNS`) into ``scored``; returns how many."""
    count = 0
    # A plain fetch: a server-side cursor (iterator) costs PostgreSQL extra round trips.
    for doc_id, term_id, weight, kind, key, *facets in rows:
        count += 1
        doc = scored.get(doc_id)
        if doc is None:
            doc = scored[doc_id] = _Scored(kind, key, tuple(facets))
        if weight > doc.weight:
            doc.weight = weight
        for index, score in matches[term_id]:
            value = score * weight
            if doc.best.get(index, 0.0) < value:
                doc.best[index] = value
    return count


def _read_best(
    scored: dict[int, _Scored],
    matches: dict[int, list[tuple[int, float]]],
    term_ids: list[int],
    sizes: dict[int, int],
    filters: dict[str, str],
    depth: int,
    need: int,
) -> bool:
    """Score the ``depth`` best postings of each of ``term_ids`` (weight times kind
    boost, as the index orders them); returns True when every posting was read.

    For one word this gives exactly its ``need`` best documents: a document's score
    is its best term's match times that order, so a document outside every term's
    first ``need`` has at least ``need`` documents before it.
    """
    # Exact matches of the word give the sample (facets, estimate); a prefix or
    # typo match needs only enough for the page.
    exact = [t for t in term_ids if any(score >= 1.0 for _, score in matches[t])]
    limits = {t: depth if t in exact or not exact else need for t in term_ids}
    small = [t for t in term_ids if sizes.get(t, 0) <= limits[t]]
    # Terms with few postings are read together, in full.
    if small:
        _score(scored, matches, _postings(small, filters))
    complete = True
    for term_id in term_ids:
        if term_id in small:
            continue
        if (
            _score(scored, matches, _postings([term_id], filters, best=limits[term_id]))
            >= limits[term_id]
        ):
            complete = False
    return complete


def _bounded(
    matches: dict[int, list[tuple[int, float]]],
    sizes: dict[int, int],
    words: int,
    filters: dict[str, str],
    need: int,
    page: int,
    exact_key: str,
) -> tuple[dict[int, _Scored], bool, int, float]:
    """Bounded reading. One word: its terms' best postings. Several words: the
    documents holding every word, found in SQL by walking the rarest word's postings
    in the index's order and probing the others' (:func:`_meeting`); only those are
    scored. When no document holds every word, each word's best postings give the
    closest partial matches. Returns the scored documents, whether the reading was
    complete, how many documents the estimate of the total rests on, and the share
    of them that held every word."""
    by_word = _by_word(matches, words)
    spread = [sum(sizes.get(t, 0) for t in ids) for ids in by_word]
    order = sorted(range(words), key=spread.__getitem__)
    depth = max(SAMPLE, need)
    scored: dict[int, _Scored] = {}
    if words == 1:
        complete = _read_best(scored, matches, by_word[0], sizes, filters, depth, need)
        sampled = len(scored)
        _read_named(scored, matches, filters, exact_key)
        return scored, complete, sampled, 1.0
    rarest, others = by_word[order[0]], [by_word[i] for i in order[1:]]
    found: list[int] = []
    complete = True
    if all(others):
        # (A word no term matches: no document holds every word.)
        found, complete = _meeting(matches, rarest, others, sizes, filters, need, page)
    found.extend(pk for pk in _named(filters, exact_key) if pk not in set(found))
    if found:
        _read(scored, matches, list(matches), filters, found)
    if not any(len(doc.best) == words for doc in scored.values()):
        # No document holds every word: the closest partial matches, from each
        # word's best postings.
        for index in order:
            whole = _read_best(scored, matches, by_word[index], sizes, filters, depth, need)
            complete = complete and whole
        return scored, complete, len(scored), 0.0
    if complete:
        return scored, True, len(scored), 1.0
    sampled, held = _share(rarest, others, sizes, filters)
    return scored, False, sampled, held / max(sampled, 1)


def _named(filters: dict[str, str], exact_key: str) -> list[int]:
    """The documents named exactly as the query ("ER_PRS_F"), by the name index."""
    if not exact_key:
        return []
    named = SearchDocument.objects.filter(key=exact_key)
    for name, value in filters.items():
        named = named.filter(**{FACETS[name].removeprefix("document__"): value[:200]})
    return list(named.values_list("pk", flat=True)[:50])


def _read_named(
    scored: dict[int, _Scored],
    matches: dict[int, list[tuple[int, float]]],
    filters: dict[str, str],
    exact_key: str,
) -> None:
    """An exact identifier wins outright: make sure it is among the documents read."""
    extra = [pk for pk in _named(filters, exact_key) if pk not in scored]
    if extra:
        _read(scored, matches, list(matches), filters, extra)


def _probes(others: list[list[int]], params: list[Any]) -> str:
    """``EXISTS`` conditions: the posting's document holds a term of each of ``others``."""
    table = connection.ops.quote_name(SearchPosting._meta.db_table)
    # PostgreSQL would otherwise turn the probe into a semi-join and may hash every
    # posting of a common word to probe a few documents; ``OFFSET 0`` keeps it an
    # index probe per posting walked (SQLite always probes).
    fence = " OFFSET 0" if connection.vendor == "postgresql" else ""
    sql = ""
    for term_ids in others:
        sql += (
            f" AND EXISTS (SELECT 1 FROM {table} q WHERE q.term_id IN "  # noqa: S608
            f"({', '.join(['%s'] * len(term_ids))}) AND q.document_id = p.document_id{fence})"
        )
        params.extend(term_ids)
    return sql


def _walk(
    term_ids: list[int],
    others: list[list[int]],
    filters: dict[str, str],
    best: int | None,
) -> list[int]:
    """Documents of ``term_ids`` that hold every one of ``others``: the ``best`` first
    in the index's order (one term), or all of them."""
    quote = connection.ops.quote_name
    params: list[Any] = list(term_ids)
    sql = (
        f"SELECT p.document_id FROM {quote(SearchPosting._meta.db_table)} p "  # noqa: S608
        f"WHERE p.term_id IN ({', '.join(['%s'] * len(term_ids))})"
    )
    if filters:
        sql = sql.replace(
            " WHERE ",
            f" JOIN {quote(SearchDocument._meta.db_table)} d ON d.id = p.document_id WHERE ",
            1,
        )
        for name, value in filters.items():
            sql += f" AND d.{quote(FACETS[name].removeprefix('document__'))} = %s"
            params.append(value[:200])
    sql += _probes(others, params)
    if best is not None:
        sql += " ORDER BY p.impact DESC, p.document_id LIMIT %s"
        params.append(best)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _meeting(
    matches: dict[int, list[tuple[int, float]]],
    rarest: list[int],
    others: list[list[int]],
    sizes: dict[int, int],
    filters: dict[str, str],
    need: int,
    page: int,
) -> tuple[list[int], bool]:
    """Documents holding every word: for each term of the rarest word, its best
    ``need`` such documents (its exact term) or the ``page``'s worth (a prefix or
    typo term), walked in the index's order, each posting probed on the other words'
    ``(term, document)`` index, so depth costs index probes, not rows read into
    Python. Returns them and whether every such document was found."""
    exact = [t for t in rarest if any(score >= 1.0 for _, score in matches[t])]
    limits = {t: need if t in exact or not exact else page for t in rarest}
    small = [t for t in rarest if sizes.get(t, 0) <= limits[t]]
    found: dict[int, None] = {}
    complete = True
    if small:
        found.update(dict.fromkeys(_walk(small, others, filters, None)))
    for term_id in rarest:
        if term_id in small:
            continue
        docs = _walk([term_id], others, filters, limits[term_id])
        found.update(dict.fromkeys(docs))
        if len(docs) >= limits[term_id]:
            complete = False
    return list(found), complete


def _share(
    rarest: list[int], others: list[list[int]], sizes: dict[int, int], filters: dict[str, str]
) -> tuple[int, int]:
    """Of the best :data:`SAMPLE` postings of the rarest word's largest term, how many
    were read and how many lie in documents holding every word (for the estimate)."""
    term_id = max(rarest, key=lambda t: sizes.get(t, 0))
    quote = connection.ops.quote_name
    params: list[Any] = [term_id]
    inner = (
        f"SELECT p.document_id FROM {quote(SearchPosting._meta.db_table)} p "  # noqa: S608
        f"WHERE p.term_id = %s"
    )
    if filters:
        inner = inner.replace(
            " WHERE ",
            f" JOIN {quote(SearchDocument._meta.db_table)} d ON d.id = p.document_id WHERE ",
            1,
        )
        for name, value in filters.items():
            inner += f" AND d.{quote(FACETS[name].removeprefix('document__'))} = %s"
            params.append(value[:200])
    inner += " ORDER BY p.impact DESC, p.document_id LIMIT %s"
    params.append(SAMPLE)
    held: list[Any] = []
    probes = _probes(others, held)
    sql = (
        f"SELECT COUNT(*), SUM(CASE WHEN 1 = 1{probes} THEN 1 ELSE 0 END) "  # noqa: S608
        f"FROM ({inner}) p"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, held + params)
        read, meeting = cursor.fetchone()
    return int(read or 0), int(meeting or 0)


def _by_word(matches: dict[int, list[tuple[int, float]]], words: int) -> list[list[int]]:
    by_word: list[list[int]] = [[] for _ in range(words)]
    for term_id, uses in matches.items():
        for index, _ in uses:
            by_word[index].append(term_id)
    return by_word


def _collect(
    matches: dict[int, list[tuple[int, float]]],
    sizes: dict[int, int],
    words: int,
    filters: dict[str, str],
) -> tuple[dict[int, _Scored], list[int]]:
    """The scored documents, and for each word how many postings its terms have.

    With several words, the rarest is read first and the others only in the
    documents it found, so a common word ("date") costs no more than a rare one
    ("naissance"); when no document holds every word, everything is read and the
    closest partial matches are ranked.
    """
    by_word = _by_word(matches, words)
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
    if connection.vendor != "postgresql":
        return _search(query, filters=filters, limit=limit, offset=offset)
    # Every statement of a search reads a few hundred index entries at most, but
    # PostgreSQL's estimates for large posting lists start parallel workers (about
    # 13 ms each time on a small machine) or JIT compilation: both off, for this
    # transaction only.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        cursor.execute("SET LOCAL jit = off")
        return _search(query, filters=filters, limit=limit, offset=offset)


def _search(query: str, *, filters: dict[str, str] | None, limit: int, offset: int) -> Results:
    # NUL carries nothing searchable, and PostgreSQL refuses it in a parameter.
    query = (query or "")[:MAX_QUERY].replace("\x00", "")
    filters = {
        k: str(v).replace("\x00", "") for k, v in (filters or {}).items() if k in FACETS and v
    }
    results = Results(query=query)
    words = list(dict.fromkeys(text.tokens(query)))[:MAX_WORDS]
    if not words:
        return results
    matches, forms, sizes = _candidates(words)
    if not matches:
        return results
    query_key = text.key(query.strip())
    spread = [sum(sizes.get(t, 0) for t in ids) for ids in _by_word(matches, len(words))]
    complete, sampled, share = True, 0, 1.0
    if sum(spread) > BOUNDED_ABOVE:
        need = max(offset + limit, RERANKED if len(words) > 1 else 0)
        scored, complete, sampled, share = _bounded(
            matches, sizes, len(words), filters, need, offset + limit, query_key
        )
    else:
        scored, spread = _collect(matches, sizes, len(words), filters)
    if not scored:
        return results
    total_docs = max(_document_count(), 1)
    rarity = [math.log(1 + total_docs / f) if f else 0.0 for f in spread]
    full = [doc_id for doc_id, doc in scored.items() if len(doc.best) == len(words)]
    results.partial = not full
    chosen = full or list(scored)

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
    if not complete:
        # Of the best postings of the rarest word, a ``share`` lay in documents
        # holding every word: the same share of all its documents is the estimate.
        results.approximate = True
        results.sampled = len(chosen)
        if len(words) == 1:
            share = len(full) / max(sampled, 1)
        rarest = min(spread) if full else 0
        results.total = max(len(chosen), round(rarest * share))
    results.facets = _facets(chosen, scored, filters)
    page = chosen[offset : offset + limit]
    results.hits = _hydrate(page, scored, rank, " ".join(words))
    return results


def _document_count() -> int:
    """How many documents the index holds, as the indexer counts them."""
    count = SearchCounter.objects.filter(name=DOCUMENTS).values_list("value", flat=True).first()
    return int(count) if count is not None else SearchDocument.objects.count()


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


def _hydrate(page: list[int], scored: dict[int, _Scored], rank: Any, words: str) -> list[Hit]:
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
            codes_query=words
            if rows[pk]["kind"] == DocumentKind.CODE_LIST and scored[pk].weight <= CODE_LABEL
            else "",
        )
        for pk in page
        if pk in rows
    ]
