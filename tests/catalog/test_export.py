"""Exports: DCAT-AP 3 + HealthDCAT-AP (checked against the shapes), CSVW, Table Schema,
schema.org, content negotiation."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from pyshacl import validate
from rdflib import Graph, URIRef
from rdflib import namespace as ns

from hdh.catalog.export.dcat import CSVW
from hdh.catalog.export.formats import export_data_package, export_dcat
from hdh.catalog.models import Base, Relation, Table, Variable
from hdh.catalog.services.dictionary import import_tableschema
from tests.factories.catalog import create_test_base

pytestmark = [
    pytest.mark.django_db,
    # rdflib's own JSON-LD parser still uses its deprecated ConjunctiveGraph.
    pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning"),
]

SHAPES = Path(__file__).resolve().parents[3] / "shared" / "data" / "shacl"
SHAPE_FILES = (
    "dcat-ap-3.0.1/shapes.ttl",
    "dcat-ap-3.0.1/range.ttl",
    "healthdcat-ap-r5/healthdcatap-shacl.ttl",
)


@cache
def _shapes() -> Graph:
    graph = Graph()
    for name in SHAPE_FILES:
        graph.parse(SHAPES / name)
    return graph


def _conforms(graph: Graph) -> tuple[bool, str]:
    conforms, _, text = validate(graph, shacl_graph=_shapes(), inference="none")
    return bool(conforms), str(text)


def _parse(text: str, fmt: str) -> Graph:
    graph = Graph()
    graph.parse(data=text, format="json-ld" if fmt == "jsonld" else "turtle")
    return graph


@pytest.mark.parametrize("fmt", ["turtle", "jsonld"])
def test_the_whole_catalog_conforms_to_dcat_ap_and_healthdcat_ap(catalog: str, fmt: str) -> None:
    graph = _parse(export_dcat(slug=None, fmt=fmt), fmt)
    conforms, report = _conforms(graph)
    assert conforms, report[:3000]
    assert len(list(graph.subjects(ns.RDF.type, ns.DCAT.Dataset))) == 5


@pytest.mark.parametrize("slug", ["oscour", "snds"])
def test_a_base_with_its_csvw_variables_conforms(catalog: str, slug: str) -> None:
    graph = _parse(export_dcat(slug=slug, fmt="jsonld"), "jsonld")
    conforms, report = _conforms(graph)
    assert conforms, report[:3000]
    columns = len(list(graph.subjects(ns.RDF.type, CSVW.Column)))
    base = Base.objects.get(slug=slug)
    assert columns == Variable.objects.filter(table__version=base.current_version).count()


def test_the_shapes_do_bite(catalog: str) -> None:
    graph = _parse(export_dcat(slug="oscour", fmt="turtle"), "turtle")
    dataset = next(graph.subjects(ns.RDF.type, ns.DCAT.Dataset))
    graph.remove((dataset, ns.DCTERMS.description, None))
    graph.remove((dataset, ns.DCAT.keyword, None))
    conforms, report = _conforms(graph)
    assert not conforms
    assert "description" in report


def test_counts_are_typed_non_negative_integers(catalog: str) -> None:
    base = create_test_base(
        number_of_records=12, min_typical_age=0, max_typical_age=17, keywords=[]
    )
    graph = _parse(export_dcat(slug=base.slug, fmt="turtle"), "turtle")
    conforms, report = _conforms(graph)
    assert conforms, report[:3000]
    assert "nonNegativeInteger" in export_dcat(slug=base.slug, fmt="turtle")


def test_base_pages_negotiate_rdf(catalog: str) -> None:
    client = Client()
    url = "/catalogue/bases/oscour/"
    turtle = client.get(url, HTTP_ACCEPT="text/turtle")
    assert turtle["Content-Type"].startswith("text/turtle")
    assert (
        URIRef("http://localhost:8000/catalogue/bases/oscour/#dataset"),
        ns.RDF.type,
        ns.DCAT.Dataset,
    ) in _parse(turtle.content.decode(), "turtle")
    jsonld = client.get(url, HTTP_ACCEPT="application/ld+json")
    assert jsonld["Content-Type"].startswith("application/ld+json")
    json.loads(jsonld.content)
    html = client.get(url, HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert html["Content-Type"].startswith("text/html")
    assert "Accept" in html["Vary"]
    assert client.get(url, {"format": "jsonld"})["Content-Type"].startswith("application/ld")
    catalog_rdf = client.get("/catalogue/", HTTP_ACCEPT="text/turtle")
    assert b"dcat:Catalog" in catalog_rdf.content


def test_base_pages_embed_schema_org(catalog: str) -> None:
    base = create_test_base(description="Texte </script><script>alert(1)</script> & fin")
    page = Client().get(base.get_absolute_url()).content.decode()
    start = page.index('<script type="application/ld+json">') + len(
        '<script type="application/ld+json">'
    )
    data = json.loads(page[start : page.index("</script>", start)])
    assert data["@type"] == "Dataset"
    assert data["description"] == base.description
    assert "<script>alert(1)" not in page


def test_table_schema_export_round_trips(catalog: str, tmp_path: Path) -> None:
    package = json.loads(export_data_package(slug="snds"))
    assert len(package["resources"]) == 188
    for resource in package["resources"]:
        path = tmp_path / "schemas" / (resource.get("produit") or "X") / f"{resource['name']}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps(
                {
                    "name": resource["name"],
                    "title": resource.get("title", ""),
                    "produit": resource.get("produit", ""),
                    **resource["schema"],
                }
            ),
            encoding="utf-8",
        )
    copy = create_test_base()
    version = import_tableschema(directory=tmp_path, base=copy, by=None)
    assert Table.objects.filter(version=version).count() == 188
    assert Variable.objects.filter(table__version=version).count() == 4815
    assert Relation.objects.filter(table__version=version).count() == 197


def test_csvw_and_data_package_pages(catalog: str) -> None:
    client = Client()
    csvw = client.get("/catalogue/bases/oscour/csvw.jsonld")
    assert csvw.status_code == 200
    assert CSVW.Column in set(_parse(csvw.content.decode(), "jsonld").objects(None, ns.RDF.type))
    package = client.get("/catalogue/bases/oscour/datapackage.json").json()
    assert package["resources"][0]["name"] == "RPU"
    assert client.get("/catalogue/bases/nope/datapackage.json").status_code == 404


def test_export_commands(catalog: str, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("catalog", "export-dcat", "--format", "turtle")
    assert "dcat:Catalog" in capsys.readouterr().out
    call_command("catalog", "export-dcat", "--base", "oscour", "--format", "jsonld")
    assert json.loads(capsys.readouterr().out)["@context"]
    call_command("catalog", "export-tableschema", "--base", "oscour")
    assert json.loads(capsys.readouterr().out)["name"] == "oscour"
    call_command("catalog", "export-csvw", "--base", "oscour", "--format", "turtle")
    assert "csvw:Column" in capsys.readouterr().out
    with pytest.raises(CommandError, match="no such base"):
        call_command("catalog", "export-dcat", "--base", "../../etc", "--format", "turtle")
