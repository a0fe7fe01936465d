"""The catalog's REST API: read for everyone, write for the base's producers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count
from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from hdh.accounts.authorization import has_permission
from hdh.catalog import pages
from hdh.catalog.models import Base, Table
from hdh.catalog.search.query import search as run_search
from hdh.catalog.services.bases import create_base, update_base
from hdh.core.api import SIGNED_IN, links, omittable, refusals
from hdh.core.errors import NotAllowed
from hdh.core.permissions import Permission

router = Router(tags=["catalog"])
SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
# The routes on one base, reached from a base listed or created (OpenAPI links).
_ON_BASE = (
    "hdh_catalog_api_get_base",
    "hdh_catalog_api_update",
    "hdh_catalog_api_list_tables",
    "hdh_lake_api_list_versions",
)


class BaseSummary(Schema):
    slug: str
    title: str
    acronym: str
    kind: str
    data_holder: str
    medical_domain: str
    health_category: str
    access_rights: str
    url: str

    @staticmethod
    def resolve_url(obj: Base) -> str:
        return obj.get_absolute_url()


class BaseFields(Schema):
    """What a producer writes; the service checks every value again."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(..., max_length=300)
    acronym: str = Field("", max_length=40)
    kind: str = Field("catalogue", max_length=20)
    doi: str = Field("", max_length=200)
    hdh_reference: str = Field("", max_length=60)
    homepage: str = Field("", max_length=500)
    description: str = Field(..., max_length=20000)
    objective: str = Field("", max_length=5000)
    medical_domain: str = Field("other", max_length=30)
    health_category: str = Field(..., max_length=4)
    keywords: list[str] = Field(default_factory=list, max_length=50)
    coding_systems: list[str] = Field(default_factory=list, max_length=50)
    funding: str = Field("", max_length=2000)
    data_holder: str = Field(..., max_length=200)
    scientific_contact_name: str = Field("", max_length=200)
    scientific_contact_email: str = Field("", max_length=254)
    contact_name: str = Field("", max_length=200)
    contact_email: str = Field(..., max_length=254)
    hdab_name: str = Field("Health Data Hub", max_length=200)
    hdab_email: str = Field("contact@health-data-hub.fr", max_length=254)
    access_rights: str = Field("NON_PUBLIC", max_length=12)
    legal_basis: str = Field("", max_length=2000)
    retention_period: str = Field("", max_length=200)
    temporal_start: dt.date | None = None
    temporal_end: dt.date | None = None
    spatial_coverage: str = Field("France", max_length=200)
    population_coverage: str = Field("", max_length=2000)
    min_typical_age: int | None = Field(None, ge=0, le=130)
    max_typical_age: int | None = Field(None, ge=0, le=130)
    number_of_records: int | None = Field(None, ge=0, le=2**63 - 1)
    number_of_unique_individuals: int | None = Field(None, ge=0, le=2**63 - 1)
    update_frequency: str = Field("UNKNOWN", max_length=10)
    citation: str = Field("", max_length=2000)
    acknowledgement: str = Field("", max_length=2000)


class BaseIn(BaseFields):
    slug: str = Field(..., max_length=80, pattern=SLUG)


class BasePatch(Schema):
    model_config = ConfigDict(extra="forbid")

    # Left out, a field is unchanged; null empties a number or a date only.
    title: str = omittable(max_length=300)
    acronym: str = omittable(max_length=40)
    doi: str = omittable(max_length=200)
    hdh_reference: str = omittable(max_length=60)
    homepage: str = omittable(max_length=500)
    description: str = omittable(max_length=20000)
    objective: str = omittable(max_length=5000)
    medical_domain: str = omittable(max_length=30)
    health_category: str = omittable(max_length=4)
    keywords: list[str] = omittable(max_length=50)
    coding_systems: list[str] = omittable(max_length=50)
    funding: str = omittable(max_length=2000)
    data_holder: str = omittable(max_length=200)
    scientific_contact_name: str = omittable(max_length=200)
    scientific_contact_email: str = omittable(max_length=254)
    contact_name: str = omittable(max_length=200)
    contact_email: str = omittable(max_length=254)
    access_rights: str = omittable(max_length=12)
    legal_basis: str = omittable(max_length=2000)
    retention_period: str = omittable(max_length=200)
    temporal_start: dt.date | None = None
    temporal_end: dt.date | None = None
    spatial_coverage: str = omittable(max_length=200)
    population_coverage: str = omittable(max_length=2000)
    min_typical_age: int | None = Field(None, ge=0, le=130)
    max_typical_age: int | None = Field(None, ge=0, le=130)
    number_of_records: int | None = Field(None, ge=0, le=2**63 - 1)
    number_of_unique_individuals: int | None = Field(None, ge=0, le=2**63 - 1)
    update_frequency: str = omittable(max_length=10)
    citation: str = omittable(max_length=2000)
    acknowledgement: str = omittable(max_length=2000)


class BaseDetail(BaseFields):
    model_config = ConfigDict(extra="ignore")

    slug: str
    url: str
    dictionary_version: int | None

    @staticmethod
    def resolve_url(obj: Base) -> str:
        return obj.get_absolute_url()

    @staticmethod
    def resolve_dictionary_version(obj: Base) -> int | None:
        return obj.current_version.number if obj.current_version else None


class TableSummary(Schema):
    name: str
    title: str
    product: str
    variable_count: int


class VariableOut(Schema):
    name: str
    label: str
    description: str
    type: str
    length: str
    format: str
    code_list: str | None = Field(None, alias="code_list_name")
    date_created: str
    date_deleted: str
    management_rule: str
    is_direct_identifier: bool
    is_potential_identifier: bool
    is_pseudonym: bool


class RelationOut(Schema):
    fields: list[str]
    table: str = Field(..., alias="target_name")
    target_fields: list[str]


class TableDetail(Schema):
    name: str
    title: str
    description: str
    product: str
    primary_key: list[str]
    foreign_keys: list[RelationOut]
    variables: list[VariableOut]


class CodeOut(Schema):
    code: str
    label: str


class CodeListOut(Schema):
    name: str
    title: str
    source: str
    code_count: int
    page: int
    pages: int
    codes: list[CodeOut]


class HitOut(Schema):
    kind: str
    name: str
    title: str
    snippet: str
    base: str
    base_name: str
    table: str
    code_list: str
    product: str
    score: float
    url: str


class FacetOut(Schema):
    value: str
    label: str
    count: int


class SearchOut(Schema):
    query: str
    total: int
    # True when ``total`` is an estimate and the facets count only the first hits.
    approximate: bool = False
    partial: bool
    hits: list[HitOut]
    facets: dict[str, list[FacetOut]]


class SearchParams(Schema):
    q: str = Field("", max_length=200)
    kind: str = Field("", max_length=20)
    medical_domain: str = Field("", max_length=30)
    data_holder: str = Field("", max_length=200)
    product: str = Field("", max_length=128)
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0, le=1000)


def _base(slug: str) -> Base:
    base = Base.objects.select_related("current_version").filter(slug=slug[:80]).first()
    if base is None:
        raise Http404("no such base")
    return base


@router.get(
    "/bases",
    response=list[BaseSummary],
    openapi_extra=links(200, "slug", "$response.body#/0/slug", *_ON_BASE),
)
def list_bases(request: HttpRequest) -> Any:
    return Base.objects.all()


@router.get("/bases/{slug}", response={200: BaseDetail, **refusals(404)})
def get_base(request: HttpRequest, slug: str) -> Any:
    return _base(slug)


@router.post(
    "/bases",
    response={201: BaseDetail, **refusals(401, 403, 422)},
    auth=SIGNED_IN,
    openapi_extra=links(201, "slug", "$response.body#/slug", *_ON_BASE),
)
def create(request: HttpRequest, payload: BaseIn) -> Any:
    if not has_permission(request.user, Permission.CATALOG_EDIT):
        raise NotAllowed("creating a base needs the catalog.edit permission")
    values = payload.dict()
    slug = values.pop("slug")
    organisation = getattr(request.user, "organisation", None)
    base = create_base(slug=slug, by=request.user, holder_organisation=organisation, **values)
    return Status(201, base)


@router.patch(
    "/bases/{slug}", response={200: BaseDetail, **refusals(401, 403, 404, 422)}, auth=SIGNED_IN
)
def update(request: HttpRequest, slug: str, payload: BasePatch) -> Any:
    base = _base(slug)
    if not has_permission(request.user, Permission.CATALOG_EDIT, obj=base):
        raise NotAllowed("editing this base needs the catalog.edit permission on it")
    values = {k: v for k, v in payload.dict(exclude_unset=True).items()}
    return update_base(base=base, by=request.user, **values)


@router.get("/bases/{slug}/tables", response={200: list[TableSummary], **refusals(404)})
def list_tables(request: HttpRequest, slug: str) -> Any:
    base = _base(slug)
    return Table.objects.filter(version_id=base.current_version_id).annotate(
        variable_count=Count("variables")
    )


@router.get("/bases/{slug}/tables/{table}", response={200: TableDetail, **refusals(404)})
def get_table(request: HttpRequest, slug: str, table: str) -> Any:
    page = pages.table_page(slug, table)
    return {
        "name": page.table.name,
        "title": page.table.title,
        "description": page.table.description,
        "product": page.table.product,
        "primary_key": page.table.primary_key,
        "foreign_keys": page.relations,
        "variables": page.variables,
    }


@router.get("/bases/{slug}/code-lists/{name}", response={200: CodeListOut, **refusals(404, 422)})
def get_code_list(request: HttpRequest, slug: str, name: str, q: str = "", page: int = 1) -> Any:
    found = pages.code_list_page(slug, name, query=q, page=max(1, min(page, 10**6)))
    return {
        "name": found.code_list.name,
        "title": found.code_list.title,
        "source": found.code_list.source,
        "code_count": found.code_list.code_count,
        "page": found.page.number,
        "pages": found.page.paginator.num_pages,
        "codes": list(found.page.object_list),
    }


@router.get("/search", response={200: SearchOut, **refusals(422)})
def search(request: HttpRequest, params: Query[SearchParams]) -> Any:
    filters = {
        "kind": params.kind,
        "medical_domain": params.medical_domain,
        "data_holder": params.data_holder,
        "product": params.product,
    }
    results = run_search(params.q, filters=filters, limit=params.limit, offset=params.offset)
    return {
        "query": results.query,
        "total": results.total,
        "approximate": results.approximate,
        "partial": results.partial,
        "hits": [hit.as_dict() for hit in results.hits],
        "facets": {
            name: [{"value": v.value, "label": v.label, "count": v.count} for v in values]
            for name, values in results.facets.items()
        },
    }
