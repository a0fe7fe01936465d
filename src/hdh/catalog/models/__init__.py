from hdh.catalog.models.bases import Base
from hdh.catalog.models.codes import Code, CodeList
from hdh.catalog.models.dictionary import DictionaryVersion, Relation, Table, Variable
from hdh.catalog.models.search import (
    DocumentKind,
    SearchCounter,
    SearchDocument,
    SearchGram,
    SearchPosting,
    SearchTerm,
)

__all__ = [
    "Base",
    "Code",
    "CodeList",
    "DictionaryVersion",
    "DocumentKind",
    "Relation",
    "SearchCounter",
    "SearchDocument",
    "SearchGram",
    "SearchPosting",
    "SearchTerm",
    "Table",
    "Variable",
]
