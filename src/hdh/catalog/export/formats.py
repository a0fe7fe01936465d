"""The catalog's exports, by name: what the pages, the API and the CLI hand out."""

from __future__ import annotations

import json

from django.http import Http404, HttpRequest

from hdh.catalog.export import dcat, dictionary
from hdh.catalog.models import Base

RDF_TYPES = {"text/turtle": "turtle", "application/ld+json": "jsonld"}


def negotiated_rdf(request: HttpRequest) -> str | None:
    """``turtle`` or ``jsonld`` when the client prefers RDF to HTML, else None."""
    wanted = request.GET.get("format", "")
    if wanted in dcat.FORMATS:
        return wanted
    if "HTTP_ACCEPT" not in request.META:
        return None
    preferred = request.get_preferred_type(["text/html", *RDF_TYPES])
    return RDF_TYPES.get(str(preferred)) if preferred else None


def export_dcat(*, slug: str | None, fmt: str) -> str:
    """DCAT-AP 3 + HealthDCAT-AP: one base with its CSVW dictionary, or the whole catalog."""
    if slug is None:
        return dcat.serialise(dcat.catalog_graph(Base.objects.order_by("slug")), fmt)
    base = _base(slug)
    graph = dcat.base_graph(base)
    dictionary.add_dictionary(graph, base)
    return dcat.serialise(graph, fmt)


def export_data_package(*, slug: str) -> str:
    return json.dumps(dictionary.data_package(_base(slug)), ensure_ascii=False, indent=2)


def export_csvw(*, slug: str, fmt: str) -> str:
    return dcat.serialise(dictionary.csvw_graph(_base(slug)), fmt)


def schema_org_script(base: Base) -> str:
    """schema.org JSON-LD safe to embed in a <script> element."""
    text = json.dumps(dictionary.schema_org(base), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _base(slug: str) -> Base:
    base = Base.objects.select_related("current_version").filter(slug=slug[:80]).first()
    if base is None:
        raise Http404("no such base")
    return base
