"""A base's data dictionary as CSVW (RDF, as HealthDCAT-AP describes variables) and as a
Frictionless Data Package of Table Schemas (the format it is imported from)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF, RDFS

from hdh.catalog.export.dcat import CSVW, FR, dataset_iri, new_graph, public_url
from hdh.catalog.models import Base, Relation, Table, Variable


def _tables(base: Base) -> list[Table]:
    if base.current_version_id is None:
        return []
    return list(Table.objects.filter(version_id=base.current_version_id).order_by("position"))


def _variables(base: Base) -> dict[int, list[Variable]]:
    grouped: dict[int, list[Variable]] = {}
    rows = (
        Variable.objects.filter(table__version_id=base.current_version_id)
        .select_related("code_list")
        .order_by("table_id", "position")
    )
    for variable in rows:
        grouped.setdefault(variable.table_id, []).append(variable)
    return grouped


def add_dictionary(graph: Graph, base: Base) -> URIRef | None:
    """The current dictionary of ``base`` as a csvw:TableGroup linked from the dataset."""
    tables = _tables(base)
    if not tables:
        return None
    root = public_url()
    group = URIRef(f"{root}{base.get_absolute_url()}#dictionary")
    graph.add((group, RDF.type, CSVW.TableGroup))
    graph.add((dataset_iri(base), RDFS.seeAlso, group))
    variables = _variables(base)
    for table in tables:
        url = URIRef(
            root + reverse("catalog:table", kwargs={"slug": base.slug, "table": table.name})
        )
        node = URIRef(f"{url}#table")
        graph.add((group, CSVW.table, node))
        graph.add((node, RDF.type, CSVW.Table))
        graph.add((node, CSVW.url, url))
        graph.add((node, DCTERMS.title, Literal(table.title or table.name, lang=FR)))
        graph.add((node, DCAT.keyword, Literal(table.name)))
        if table.product:
            graph.add((node, DCAT.keyword, Literal(table.product)))
        for variable in variables.get(table.pk, []):
            column = BNode()
            graph.add((node, CSVW.column, column))
            graph.add((column, RDF.type, CSVW.Column))
            graph.add((column, CSVW.name, Literal(variable.name)))
            text = variable.description or variable.label or variable.name
            graph.add((column, CSVW.titles, Literal(variable.label or text, lang=FR)))
            graph.add((column, DCTERMS.description, Literal(text, lang=FR)))
            graph.add((column, CSVW.datatype, Literal(variable.type)))
            if variable.code_list is not None:
                graph.add(
                    (
                        column,
                        CSVW.propertyUrl,
                        URIRef(
                            root
                            + reverse(
                                "catalog:code_list",
                                kwargs={"slug": base.slug, "name": variable.code_list.name},
                            )
                        ),
                    )
                )
    return group


def csvw_graph(base: Base) -> Graph:
    graph = new_graph()
    add_dictionary(graph, base)
    return graph


_FIELD_EXTRAS = (
    ("length", "length"),
    ("date_created", "dateCreated"),
    ("date_deleted", "dateDeleted"),
    ("observation", "observation"),
    ("management_rule", "regle_gestion"),
)


def _field(variable: Variable) -> dict[str, Any]:
    field: dict[str, Any] = {"name": variable.name, "type": variable.type}
    if variable.label:
        field["title"] = variable.label
    if variable.description:
        field["description"] = variable.description
    if variable.format:
        field["format"] = variable.format
    if variable.constraints:
        field["constraints"] = variable.constraints
    field["nomenclature"] = variable.code_list_name or "-"
    for attribute, key in _FIELD_EXTRAS:
        value = getattr(variable, attribute)
        if value:
            field[key] = value
    for attribute, key in (
        ("is_direct_identifier", "directIdentifier"),
        ("is_potential_identifier", "potentialIdentifier"),
        ("is_pseudonym", "pseudonym"),
    ):
        if getattr(variable, attribute):
            field[key] = True
    return field


def data_package(base: Base) -> dict[str, Any]:
    """A Frictionless Data Package whose resources carry each table's Table Schema."""
    tables = _tables(base)
    variables = _variables(base) if tables else {}
    relations: dict[int, list[Relation]] = {}
    for relation in Relation.objects.filter(table__in=tables):
        relations.setdefault(relation.table_id, []).append(relation)
    resources = []
    for table in tables:
        schema: dict[str, Any] = {"fields": [_field(v) for v in variables.get(table.pk, [])]}
        if table.primary_key:
            schema["primaryKey"] = table.primary_key
        if relations.get(table.pk):
            schema["foreignKeys"] = [
                {
                    "fields": r.fields,
                    "reference": {"resource": r.target_name, "fields": r.target_fields},
                }
                for r in relations[table.pk]
            ]
        resource: dict[str, Any] = {
            "name": table.name,
            "profile": "tabular-data-resource",
            "schema": schema,
        }
        for key, value in (
            ("title", table.title),
            ("description", table.description),
            ("produit", table.product),
        ):
            if value:
                resource[key] = value
        resources.append(resource)
    return {
        "name": base.slug,
        "title": base.title,
        "description": base.description,
        "version": str(base.current_version.number) if base.current_version else "0",
        "resources": resources,
    }


def schema_org(base: Base) -> dict[str, Any]:
    """schema.org Dataset, embedded in the base page for dataset search engines."""
    url = public_url() + base.get_absolute_url()
    data: dict[str, Any] = {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "@id": f"{url}#dataset",
        "name": base.display_title,
        "description": base.description,
        "url": url,
        "inLanguage": "fr",
        "keywords": list(base.keywords),
        "isAccessibleForFree": False,
        "creator": {"@type": "Organization", "name": base.data_holder},
        "publisher": {"@type": "Organization", "name": base.hdab_name},
        "spatialCoverage": base.spatial_coverage,
    }
    if base.acronym:
        data["alternateName"] = base.acronym
    if base.doi:
        data["identifier"] = f"https://doi.org/{base.doi}"
    if base.temporal_start or base.temporal_end:
        start = base.temporal_start.isoformat() if base.temporal_start else ".."
        end = base.temporal_end.isoformat() if base.temporal_end else ".."
        data["temporalCoverage"] = f"{start}/{end}"
    if base.citation:
        data["citation"] = base.citation
    return data
