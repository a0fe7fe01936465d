"""The search index: one document per base, table, variable, code list and code.

A portable inverted index kept in ordinary tables (see docs/adr/0003): terms are
accent- and case-folded tokens, postings carry the best field weight of a term
in a document, trigrams of the terms give typo tolerance. Only the current
dictionary version of each base is indexed.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DocumentKind(models.TextChoices):
    BASE = "base", _("Base")
    TABLE = "table", _("Table")
    VARIABLE = "variable", _("Variable")
    CODE_LIST = "code_list", _("Nomenclature")
    CODE = "code", _("Code")


class SearchDocument(models.Model):
    kind = models.CharField(max_length=10, choices=DocumentKind.choices)
    object_id = models.BigIntegerField()
    base = models.ForeignKey("catalog.Base", on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(
        "catalog.DictionaryVersion", null=True, on_delete=models.CASCADE, related_name="+"
    )
    # What a hit shows and links to, denormalised so a result page is one query.
    name = models.CharField(max_length=128)
    title = models.CharField(max_length=500, blank=True)
    snippet = models.CharField(max_length=300, blank=True)
    table_name = models.CharField(max_length=128, blank=True)
    code_list_name = models.CharField(max_length=128, blank=True)
    # The folded name, for exact-identifier matches ("er_prs_f").
    key = models.CharField(max_length=128, db_index=True)
    # Facets.
    product = models.CharField(max_length=128, blank=True)
    medical_domain = models.CharField(max_length=30, blank=True)
    data_holder = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "object_id"], name="catalog_searchdoc_obj")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


class SearchTerm(models.Model):
    term = models.CharField(max_length=64, unique=True)
    # How many documents hold the term (its postings), kept by the indexer so a
    # query knows a word's rarity without counting.
    documents = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.term


class SearchPosting(models.Model):
    term = models.ForeignKey(SearchTerm, on_delete=models.CASCADE, related_name="+", db_index=False)
    document = models.ForeignKey(SearchDocument, on_delete=models.CASCADE, related_name="+")
    weight = models.PositiveSmallIntegerField()
    # The weight times the document kind's boost, times ten: a term's postings read
    # in this order give its best documents first, so a common word's top hits
    # are read without reading all of them.
    impact = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["term", "document"], name="catalog_posting_term"),
            models.Index(fields=["term", "-impact", "document"], name="catalog_posting_impact"),
            # "Does this document hold one of these terms?": the probe of a
            # several-word search, one short range per document.
            models.Index(fields=["document", "term"], name="catalog_posting_document"),
        ]

    def __str__(self) -> str:
        return f"{self.term_id}→{self.document_id} ({self.weight})"


class SearchGram(models.Model):
    gram = models.CharField(max_length=3)
    term = models.ForeignKey(SearchTerm, on_delete=models.CASCADE, related_name="+", db_index=False)

    class Meta:
        indexes = [models.Index(fields=["gram", "term"], name="catalog_gram_lookup")]

    def __str__(self) -> str:
        return f"{self.gram!r}→{self.term_id}"


class SearchCounter(models.Model):
    """Counts the indexer keeps up to date (``documents``: the whole index), so a
    query never counts a million rows."""

    name = models.CharField(max_length=32, unique=True)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"
