"""Keeping the search index in step with the catalog.

A base's documents are rebuilt whole when its entry or its current dictionary
version changes (the services call :func:`reindex_base` inside their
transaction), so the index never shows a version that is not current.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from django.db import connection
from django.db.models import Count, F, QuerySet

from hdh.catalog.bulk import allocate_ids, insert_rows
from hdh.catalog.models import (
    Base,
    Code,
    CodeList,
    DictionaryVersion,
    DocumentKind,
    SearchCounter,
    SearchDocument,
    SearchGram,
    SearchPosting,
    SearchTerm,
    Table,
    Variable,
)
from hdh.catalog.search import text

NAME, TITLE, KEYWORD, TEXT, CONTEXT = 10, 6, 5, 2, 1
CODE_LABEL = CONTEXT
BATCH = 5000
# At equal match, bases outrank tables, tables variables, variables code lists.
KIND_BOOST: dict[str, float] = {
    DocumentKind.BASE: 3.0,
    DocumentKind.TABLE: 2.0,
    DocumentKind.VARIABLE: 1.5,
    DocumentKind.CODE_LIST: 1.2,
    DocumentKind.CODE: 1.0,
}
DOCUMENTS = "documents"


def impact(weight: int, kind: str) -> int:
    """A posting's reading order: its weight times its kind's boost (times ten, an integer)."""
    return round(weight * KIND_BOOST.get(kind, 1.0) * 10)


@dataclass
class Doc:
    kind: str
    object_id: int
    name: str
    title: str = ""
    snippet: str = ""
    table_name: str = ""
    code_list_name: str = ""
    product: str = ""
    fields: list[tuple[str, int]] = field(default_factory=list)
    # Terms found only in the labels of a code list's codes: searchable (weight
    # CODE_LABEL), but given no trigrams, so the vocabulary of hundreds of
    # thousands of labels does not weigh on typo matching.
    label_terms: set[str] = field(default_factory=set)


def _batched(items: Iterable[Doc], size: int) -> Iterator[list[Doc]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _snippet(value: str) -> str:
    value = " ".join(value.split())
    return value if len(value) <= 280 else value[:279] + "…"


def _base_docs(base: Base) -> Iterator[Doc]:
    yield Doc(
        DocumentKind.BASE,
        base.pk,
        base.acronym or base.slug,
        base.title,
        _snippet(base.description),
        "",
        "",
        "",
        [
            (base.acronym, NAME),
            (base.slug, NAME),
            (base.title, TITLE),
            (" ".join(str(k) for k in base.keywords), KEYWORD),
            (base.data_holder, KEYWORD),
            (base.get_medical_domain_display(), KEYWORD),
            (" ".join(str(c) for c in base.coding_systems), KEYWORD),
            (base.description, TEXT),
            (base.objective, TEXT),
            (base.population_coverage, TEXT),
        ],
    )


def _dictionary_docs(version: DictionaryVersion) -> Iterator[Doc]:
    tables = {t.pk: t for t in Table.objects.filter(version=version)}
    for t in tables.values():
        yield Doc(
            DocumentKind.TABLE,
            t.pk,
            t.name,
            t.title,
            _snippet(t.description),
            t.name,
            "",
            t.product,
            [(t.name, NAME), (t.title, TITLE), (t.product, KEYWORD), (t.description, TEXT)],
        )
    lists = {c.pk: c for c in CodeList.objects.filter(version=version)}
    variables = Variable.objects.filter(table__version=version).only(
        "pk", "table_id", "name", "label", "description", "code_list_id", "code_list_name"
    )
    for v in variables.iterator(chunk_size=BATCH):
        table = tables[v.table_id]
        code_list = lists.get(v.code_list_id) if v.code_list_id else None
        yield Doc(
            DocumentKind.VARIABLE,
            v.pk,
            v.name,
            v.label or v.description[:500],
            _snippet(v.description),
            table.name,
            v.code_list_name,
            table.product,
            [
                (v.name, NAME),
                (v.label, TITLE),
                (v.description, TITLE),
                (code_list.title if code_list else "", CONTEXT),
                (table.name, CONTEXT),
                (table.title, CONTEXT),
            ],
        )
    labels: dict[int, set[str]] = {pk: set() for pk in lists}
    codes = Code.objects.filter(code_list__version=version).values_list("code_list_id", "label")
    for list_id, label in codes.iterator(chunk_size=BATCH):
        if label:
            labels[list_id].update(text.tokens(label))
    for c in lists.values():
        yield Doc(
            DocumentKind.CODE_LIST,
            c.pk,
            c.name,
            c.title,
            _snippet(c.description),
            "",
            c.name,
            c.source,
            [(c.name, NAME), (c.title, TITLE), (c.description, TEXT)],
            labels[c.pk],
        )


def reindex_base(base: Base) -> int:
    """Replace every document of ``base``; returns how many were written."""
    drop_base(base_id=base.pk)
    docs: Iterable[Doc] = _base_docs(base)
    written = _write(base, None, docs)
    if base.current_version_id is not None:
        version = DictionaryVersion.objects.get(pk=base.current_version_id)
        written += _write(base, version, _dictionary_docs(version))
    return written


def refresh_base_entry(base: Base) -> int:
    """After an edit of the entry alone: rewrite the base's own document and the facet
    values its dictionary documents carry, without re-reading the dictionary."""
    _delete(SearchDocument.objects.filter(base_id=base.pk, kind=DocumentKind.BASE))
    SearchDocument.objects.filter(base_id=base.pk).update(
        medical_domain=base.medical_domain, data_holder=base.data_holder[:200]
    )
    return _write(base, None, _base_docs(base))


def drop_base(*, base_id: int) -> None:
    _delete(SearchDocument.objects.filter(base_id=base_id))


def _delete(documents: QuerySet[SearchDocument]) -> None:
    """Delete ``documents`` and their postings, and take them out of the counts."""
    postings = SearchPosting.objects.filter(document__in=documents.values("pk"))
    removed = Counter(
        dict(postings.values("term_id").annotate(n=Count("id")).values_list("term_id", "n"))
    )
    postings._raw_delete(SearchPosting.objects.db)
    gone = documents._raw_delete(SearchDocument.objects.db)
    _count(-gone, Counter({term: -n for term, n in removed.items()}))


def _count(documents: int, terms: Counter[int]) -> None:
    """Add ``documents`` to the index's document count and ``terms`` to the terms' counts."""
    changes = [(n, term) for term, n in terms.items() if n]
    if changes:
        table = connection.ops.quote_name(SearchTerm._meta.db_table)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET documents = documents + %s WHERE id = %s",  # noqa: S608
                changes,
            )
    if documents and not SearchCounter.objects.filter(name=DOCUMENTS).update(
        value=F("value") + documents
    ):
        SearchCounter.objects.create(name=DOCUMENTS, value=SearchDocument.objects.count())


def analyze() -> None:
    """Tidy PostgreSQL's copy of the index after a bulk rebuild: planner statistics, so
    a query on a term of a million postings is not planned as if the table were empty,
    and, outside a transaction, a vacuum. Every base written updates the document count
    of its terms, leaving dead term rows behind (measured: 776,000 dead for 65,000 live
    after a 1,000-base load), and freshly written postings have no visibility map until
    vacuumed: searches on such a table took twice as long. Autovacuum would get there
    eventually; a bulk rebuild should not wait for it (or run where it is off)."""
    if connection.vendor != "postgresql":
        return
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        for model in (SearchDocument, SearchTerm, SearchPosting, SearchGram, SearchCounter):
            cursor.execute(f"{command} {connection.ops.quote_name(model._meta.db_table)}")


class _Vocabulary:
    """Term ids, loaded once per write and extended as new terms appear."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = dict(SearchTerm.objects.values_list("term", "pk"))
        self.fuzzy: set[int] = set(SearchGram.objects.values_list("term_id", flat=True).distinct())

    def resolve(self, terms: set[str], plain: set[str] | None = None) -> dict[str, int]:
        """Ids of ``terms``, created as needed, with their trigrams (typo matches)
        unless they are ``plain`` (code labels only)."""
        missing = [t for t in terms if t not in self.ids]
        if missing:
            SearchTerm.objects.bulk_create(
                [SearchTerm(term=t) for t in missing], batch_size=BATCH, ignore_conflicts=True
            )
            for start in range(0, len(missing), 900):
                self.ids.update(
                    SearchTerm.objects.filter(term__in=missing[start : start + 900]).values_list(
                        "term", "pk"
                    )
                )
        grams: list[tuple[str, int]] = []
        for term in terms:
            pk = self.ids[term]
            if pk in self.fuzzy or len(term) < 4 or term.isdigit() or (plain and term in plain):
                continue
            self.fuzzy.add(pk)
            grams.extend((gram, pk) for gram in text.trigrams(term))
        insert_rows(SearchGram._meta.db_table, ("gram", "term_id"), grams)
        return self.ids


_DOCUMENT_COLUMNS = (
    "id",
    "kind",
    "object_id",
    "base_id",
    "version_id",
    "name",
    "title",
    "snippet",
    "table_name",
    "code_list_name",
    "key",
    "product",
    "medical_domain",
    "data_holder",
)


def _write(base: Base, version: DictionaryVersion | None, docs: Iterable[Doc]) -> int:
    vocabulary = _Vocabulary()
    holder = base.data_holder[:200]
    domain = base.medical_domain
    version_id = version.pk if version else None
    written = 0
    counts: Counter[int] = Counter()
    for chunk in _batched(docs, BATCH):
        ids = allocate_ids(SearchDocument._meta.db_table, len(chunk))
        rows = []
        weights: list[dict[str, int]] = []
        needed: set[str] = set()
        plain: set[str] = set()
        for pk, d in zip(ids, chunk, strict=True):
            rows.append(
                (
                    pk,
                    d.kind,
                    d.object_id,
                    base.pk,
                    version_id,
                    d.name[:128],
                    d.title[:500],
                    d.snippet[:300],
                    d.table_name[:128],
                    d.code_list_name[:128],
                    text.key(d.name),
                    d.product[:128],
                    domain,
                    holder,
                )
            )
            best: dict[str, int] = {}
            for value, weight in d.fields:
                if not value:
                    continue
                for term in text.tokens(value):
                    if best.get(term, 0) < weight:
                        best[term] = weight
            for term in d.label_terms:
                if term not in best:
                    best[term] = CODE_LABEL
                    plain.add(term)
            weights.append(best)
            needed.update(best)
        insert_rows(SearchDocument._meta.db_table, _DOCUMENT_COLUMNS, rows)
        # A term that some document holds outside code labels gets its trigrams.
        plain -= {term for best in weights for term, weight in best.items() if weight > CODE_LABEL}
        term_ids = vocabulary.resolve(needed, plain)
        postings = [
            (term_ids[term], pk, weight, impact(weight, d.kind))
            for pk, d, best in zip(ids, chunk, weights, strict=True)
            for term, weight in best.items()
        ]
        insert_rows(
            SearchPosting._meta.db_table,
            ("term_id", "document_id", "weight", "impact"),
            postings,
        )
        counts.update(posting[0] for posting in postings)
        written += len(rows)
    _count(written, counts)
    return written
