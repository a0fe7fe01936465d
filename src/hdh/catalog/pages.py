"""What each catalog page shows, read in a few queries (views stay one call deep)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, F, Q
from django.http import Http404

from hdh.catalog.models import Base, Code, CodeList, Relation, Table, Variable
from hdh.catalog.search import text

CODES_PER_PAGE = 100
MAX_CODE_QUERY = 100


def current_tables() -> Any:
    return Table.objects.filter(version__base__current_version=F("version"))


@dataclass
class Home:
    bases: list[Base]
    counts: dict[str, int]


def home() -> Home:
    tables = current_tables()
    return Home(
        bases=list(
            Base.objects.annotate(table_count=Count("current_version__tables", distinct=True))
        ),
        counts={
            "bases": Base.objects.count(),
            "tables": tables.count(),
            "variables": Variable.objects.filter(table__in=tables).count(),
            "code_lists": CodeList.objects.filter(
                version__base__current_version=F("version")
            ).count(),
        },
    )


@dataclass
class BasePage:
    base: Base
    tables: list[Table] = field(default_factory=list)
    variable_count: int = 0


def base_page(slug: str) -> BasePage:
    base = Base.objects.select_related("current_version").filter(slug=slug[:80]).first()
    if base is None:
        raise Http404("no such base")
    page = BasePage(base=base)
    if base.current_version_id is not None:
        page.tables = list(
            Table.objects.filter(version_id=base.current_version_id).annotate(
                variable_count=Count("variables")
            )
        )
        page.variable_count = sum(t.variable_count for t in page.tables)  # type: ignore[attr-defined]
    return page


def _table(slug: str, name: str) -> Table:
    table = (
        Table.objects.select_related("version__base")
        .filter(
            version__base__slug=slug[:80],
            name=name[:128],
            version__base__current_version=F("version"),
        )
        .first()
    )
    if table is None:
        raise Http404("no such table")
    return table


@dataclass
class TablePage:
    base: Base
    table: Table
    variables: list[Variable]
    relations: list[Relation]
    referenced_by: list[Relation]


def table_page(slug: str, name: str) -> TablePage:
    table = _table(slug, name)
    return TablePage(
        base=table.version.base,
        table=table,
        variables=list(table.variables.select_related("code_list")),
        relations=list(table.relations.select_related("target")),
        referenced_by=list(Relation.objects.filter(target=table).select_related("table")),
    )


@dataclass
class VariablePage:
    base: Base
    table: Table
    variable: Variable
    codes: list[Code]
    more_codes: int


def variable_page(slug: str, table_name: str, name: str) -> VariablePage:
    table = _table(slug, table_name)
    variable = (
        Variable.objects.select_related("code_list").filter(table=table, name=name[:128]).first()
    )
    if variable is None:
        raise Http404("no such variable")
    codes: list[Code] = []
    more = 0
    if variable.code_list is not None:
        codes = list(variable.code_list.codes.order_by("position")[:20])
        more = max(variable.code_list.code_count - len(codes), 0)
    return VariablePage(
        base=table.version.base, table=table, variable=variable, codes=codes, more_codes=more
    )


@dataclass
class CodeListPage:
    base: Base
    code_list: CodeList
    page: Page[Code]
    query: str
    variables: list[Variable]


def code_list_page(slug: str, name: str, *, query: str = "", page: Any = 1) -> CodeListPage:
    code_list = (
        CodeList.objects.select_related("version__base")
        .filter(
            version__base__slug=slug[:80],
            name=name[:128],
            version__base__current_version=F("version"),
        )
        .first()
    )
    if code_list is None:
        raise Http404("no such code list")
    query = query[:MAX_CODE_QUERY].strip()
    codes = code_list.codes.order_by("position")
    for word in text.fold(query).split():
        codes = codes.filter(Q(search_text__contains=word))
    paginator = Paginator(codes, CODES_PER_PAGE)
    return CodeListPage(
        base=code_list.version.base,
        code_list=code_list,
        page=paginator.get_page(page),
        query=query,
        variables=list(code_list.variables.select_related("table")[:50]),
    )
