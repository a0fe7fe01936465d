"""Keeping the search index in step with the catalog.

A base's documents are rebuilt whole when its entry or its current dictionary
version changes (the services call :func:`reindex_base` inside their
transaction), so the index never shows a version that is not current.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from hdh.catalog.bulk import allocate_ids, insert_rows
from hdh.catalog.models import (
    Base,
    CodeList,
    DictionaryVersion,
    DocumentKind,
    SearchDocument,
    SearchGram,
    SearchPosting,
    SearchTerm,
    Table,
    Variable,
)
from hdh.catalog.search import text

NAME, TITLE, KEYWORD, TEXT, CONTEXT = 10, 6, 5, 2, 1
BATCH = 5000


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
    own = SearchDocument.objects.filter(base_id=base.pk, kind=DocumentKind.BASE)
    SearchPosting.objects.filter(document__in=own.values("pk"))._raw_delete(
        SearchPosting.objects.db
    )
    own._raw_delete(SearchDocument.objects.db)
    SearchDocument.objects.filter(base_id=base.pk).update(
        medical_domain=base.medical_domain, data_holder=base.data_holder[:200]
    )
    return _write(base, None, _base_docs(base))


def drop_base(*, base_id: int) -> None:
    documents = SearchDocument.objects.filter(base_id=base_id)
    SearchPosting.objects.filter(document__in=documents.values("pk"))._raw_delete(
        SearchPosting.objects.db
    )
    documents._raw_delete(SearchDocument.objects.db)


class _Vocabulary:
    """Term ids, loaded once per write and extended as new terms appear."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = dict(SearchTerm.objects.values_list("term", "pk"))
        self.fuzzy: set[int] = set(SearchGram.objects.values_list("term_id", flat=True).distinct())

    def resolve(self, terms: set[str]) -> dict[str, int]:
        """Ids of ``terms``, created as needed, with their trigrams (typo matches)."""
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
            if pk in self.fuzzy or len(term) < 4 or term.isdigit():
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
    for chunk in _batched(docs, BATCH):
        ids = allocate_ids(SearchDocument._meta.db_table, len(chunk))
        rows = []
        weights: list[dict[str, int]] = []
        needed: set[str] = set()
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
            weights.append(best)
            needed.update(best)
        insert_rows(SearchDocument._meta.db_table, _DOCUMENT_COLUMNS, rows)
        term_ids = vocabulary.resolve(needed)
        postings = [
            (term_ids[term], pk, weight)
            for pk, best in zip(ids, weights, strict=True)
            for term, weight in best.items()
        ]
        insert_rows(SearchPosting._meta.db_table, ("term_id", "document_id", "weight"), postings)
        written += len(rows)
    return written
