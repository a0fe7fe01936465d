"""DCAT-AP 3 with HealthDCAT-AP (release 5): the catalog and each base as RDF.

Every IRI the shapes require to be typed (themes, access rights, legislation…)
is typed here, because the EU vocabularies are not loaded beside the data.
Labels are in French, the language of the entries.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, SKOS, XSD

from hdh.catalog.models import Base
from hdh.catalog.vocabularies import (
    EU_AUTHORITY,
    access_rights_iri,
    frequency_iri,
    health_category_iri,
)

DCATAP = Namespace("http://data.europa.eu/r5r/")
HEALTH = Namespace("http://healthdataportal.eu/ns/health#")
DPV = Namespace("https://w3id.org/dpv#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
ELI = Namespace("http://data.europa.eu/eli/ontology#")
CSVW = Namespace("http://www.w3.org/ns/csvw#")
# Regulation (EU) 2025/327 on the European Health Data Space.
EHDS = URIRef("http://data.europa.eu/eli/reg/2025/327/oj")
HEALTH_THEME = URIRef(f"{EU_AUTHORITY}data-theme/HEAL")
FRENCH = URIRef(f"{EU_AUTHORITY}language/FRA")
FRANCE = URIRef(f"{EU_AUTHORITY}country/FRA")
FR = "fr"


def public_url() -> str:
    """Where the platform is reached from outside: the root of every IRI it mints."""
    return str(getattr(settings, "HDH_PUBLIC_URL", "http://localhost:8000")).rstrip("/")


def new_graph() -> Graph:
    graph = Graph()
    for prefix, namespace in (
        ("dcat", DCAT),
        ("dct", DCTERMS),
        ("foaf", FOAF),
        ("skos", SKOS),
        ("vcard", VCARD),
        ("dcatap", DCATAP),
        ("healthdcatap", HEALTH),
        ("dpv", DPV),
        ("eli", ELI),
        ("csvw", CSVW),
    ):
        graph.bind(prefix, namespace)
    return graph


def _concept(graph: Graph, iri: URIRef, label: str) -> URIRef:
    graph.add((iri, RDF.type, SKOS.Concept))
    graph.add((iri, SKOS.prefLabel, Literal(label, lang=FR)))
    return iri


def _contact(graph: Graph, name: str, email: str) -> BNode:
    node = BNode()
    graph.add((node, RDF.type, VCARD.Kind))
    graph.add((node, VCARD.fn, Literal(name or email)))
    graph.add((node, VCARD.hasEmail, URIRef(f"mailto:{email}")))
    return node


def _agent(graph: Graph, name: str, email: str) -> BNode:
    node = BNode()
    graph.add((node, RDF.type, FOAF.Agent))
    graph.add((node, FOAF.name, Literal(name, lang=FR)))
    graph.add((node, DCAT.contactPoint, _contact(graph, name, email)))
    return node


def _legislation(graph: Graph, subject: URIRef | BNode) -> None:
    graph.add((EHDS, RDF.type, ELI.LegalResource))
    graph.add((subject, DCATAP.applicableLegislation, EHDS))


def _count(value: int | None) -> Literal | None:
    return None if value is None else Literal(value, datatype=XSD.nonNegativeInteger)


def page_iri(base: Base) -> URIRef:
    return URIRef(public_url() + base.get_absolute_url())


def dataset_iri(base: Base) -> URIRef:
    # The base itself, told apart from the page that describes it.
    return URIRef(f"{page_iri(base)}#dataset")


def _document(graph: Graph, iri: URIRef) -> URIRef:
    graph.add((iri, RDF.type, FOAF.Document))
    return iri


def add_base(graph: Graph, base: Base) -> URIRef:
    """Describe ``base`` as a dcat:Dataset in ``graph``; returns its IRI."""
    ds = dataset_iri(base)
    add = graph.add
    add((ds, RDF.type, DCAT.Dataset))
    add((ds, DCTERMS.identifier, Literal(str(ds), datatype=XSD.anyURI)))
    add((ds, DCTERMS.title, Literal(base.title, lang=FR)))
    add((ds, DCTERMS.description, Literal(base.description, lang=FR)))
    if base.acronym:
        add((ds, DCTERMS.alternative, Literal(base.acronym, lang=FR)))
    keywords = list(base.keywords) or [base.acronym or base.title]
    for keyword in keywords:
        add((ds, DCAT.keyword, Literal(keyword, lang=FR)))
    add((ds, DCAT.theme, _concept(graph, HEALTH_THEME, "Santé")))
    kind = _concept(
        graph,
        URIRef(f"{public_url()}/catalogue/vocabulaire/type/{base.kind}"),
        str(base.get_kind_display()),
    )
    add((ds, DCTERMS.type, kind))
    category = URIRef(health_category_iri(base.health_category))
    _concept(graph, category, str(base.get_health_category_display()))
    add((ds, HEALTH.healthCategory, category))
    add(
        (
            ds,
            HEALTH.healthTheme,
            _concept(
                graph,
                URIRef(f"{public_url()}/catalogue/vocabulaire/domaine/{base.medical_domain}"),
                str(base.get_medical_domain_display()),
            ),
        )
    )
    rights = URIRef(access_rights_iri(base.access_rights))
    add((rights, RDF.type, DCTERMS.RightsStatement))
    add((ds, DCTERMS.accessRights, rights))
    _legislation(graph, ds)
    add((ds, DCTERMS.publisher, _agent(graph, base.data_holder, base.contact_email)))
    add((ds, HEALTH.hdab, _agent(graph, base.hdab_name, base.hdab_email)))
    add(
        (
            ds,
            DCAT.contactPoint,
            _contact(graph, base.contact_name or base.data_holder, base.contact_email),
        )
    )
    if base.scientific_contact_email:
        add(
            (
                ds,
                DCAT.contactPoint,
                _contact(graph, base.scientific_contact_name, base.scientific_contact_email),
            )
        )
    provenance = BNode()
    add((provenance, RDF.type, DCTERMS.ProvenanceStatement))
    add(
        (
            provenance,
            RDFS.label,
            Literal(
                f"Copie de la base de {base.data_holder}, mise à disposition par {base.hdab_name}.",
                lang=FR,
            ),
        )
    )
    add((ds, DCTERMS.provenance, provenance))
    distribution = BNode()
    add((distribution, RDF.type, DCAT.Distribution))
    add((distribution, DCAT.accessURL, page_iri(base)))
    add(
        (
            distribution,
            DCTERMS.description,
            Literal("Accès sur autorisation, dans un espace projet de la plateforme.", lang=FR),
        )
    )
    _legislation(graph, distribution)
    add((ds, DCAT.distribution, distribution))
    add((ds, DCAT.landingPage, _document(graph, page_iri(base))))
    add((ds, DCTERMS.language, FRENCH))
    add((FRENCH, RDF.type, DCTERMS.LinguisticSystem))
    frequency = URIRef(frequency_iri(base.update_frequency))
    add((frequency, RDF.type, DCTERMS.Frequency))
    add((ds, DCTERMS.accrualPeriodicity, frequency))
    if base.spatial_coverage.strip().lower() == "france":
        add((FRANCE, RDF.type, DCTERMS.Location))
        add((ds, DCTERMS.spatial, FRANCE))
    if base.temporal_start or base.temporal_end:
        period = BNode()
        add((period, RDF.type, DCTERMS.PeriodOfTime))
        if base.temporal_start:
            add((period, DCAT.startDate, Literal(base.temporal_start, datatype=XSD.date)))
        if base.temporal_end:
            add((period, DCAT.endDate, Literal(base.temporal_end, datatype=XSD.date)))
        add((ds, DCTERMS.temporal, period))
    if base.population_coverage:
        add((ds, HEALTH.populationCoverage, Literal(base.population_coverage, lang=FR)))
    for prop, value in (
        (HEALTH.minTypicalAge, base.min_typical_age),
        (HEALTH.maxTypicalAge, base.max_typical_age),
        (HEALTH.numberOfRecords, base.number_of_records),
        (HEALTH.numberOfUniqueIndividuals, base.number_of_unique_individuals),
    ):
        literal = _count(value)
        if literal is not None:
            add((ds, prop, literal))
    for system in base.coding_systems:
        coding = BNode()
        add((coding, RDF.type, DCTERMS.Standard))
        add((coding, RDFS.label, Literal(system)))
        add((ds, HEALTH.hasCodingSystem, coding))
    if base.legal_basis:
        basis = BNode()
        add((basis, RDFS.label, Literal(base.legal_basis, lang=FR)))
        add((ds, DPV.hasLegalBasis, basis))
    if base.objective:
        purpose = BNode()
        add((purpose, RDFS.label, Literal(base.objective, lang=FR)))
        add((ds, DPV.hasPurpose, purpose))
    if base.doi:
        add((ds, DCTERMS.identifier, Literal(f"https://doi.org/{base.doi}", datatype=XSD.anyURI)))
    if base.homepage:
        add((ds, FOAF.page, _document(graph, URIRef(base.homepage))))
    if base.citation:
        add((ds, DCTERMS.bibliographicCitation, Literal(base.citation, lang=FR)))
    return ds


def catalog_graph(bases: Iterable[Base]) -> Graph:
    """The whole catalog: a dcat:Catalog listing every base."""
    graph = new_graph()
    home = URIRef(public_url() + "/catalogue/")
    catalog = URIRef(f"{home}#catalog")
    graph.add((catalog, RDF.type, DCAT.Catalog))
    graph.add((catalog, DCTERMS.title, Literal("Catalogue des données de santé", lang=FR)))
    graph.add(
        (
            catalog,
            DCTERMS.description,
            Literal(
                "Les bases décrites sur la plateforme, leurs tables, variables et nomenclatures.",
                lang=FR,
            ),
        )
    )
    graph.add(
        (catalog, DCTERMS.publisher, _agent(graph, "Health Data Hub", "contact@health-data-hub.fr"))
    )
    graph.add((catalog, FOAF.homepage, _document(graph, home)))
    graph.add((catalog, DCTERMS.language, FRENCH))
    graph.add((FRENCH, RDF.type, DCTERMS.LinguisticSystem))
    _legislation(graph, catalog)
    for base in bases:
        graph.add((catalog, DCAT.dataset, add_base(graph, base)))
    return graph


def base_graph(base: Base) -> Graph:
    graph = new_graph()
    add_base(graph, base)
    return graph


FORMATS = {"turtle": "text/turtle", "jsonld": "application/ld+json"}


def serialise(graph: Graph, fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: turtle or jsonld")
    if fmt == "jsonld":
        context = {
            prefix: str(namespace)
            for prefix, namespace in graph.namespaces()
            if prefix in _CONTEXT_PREFIXES
        }
        return graph.serialize(format="json-ld", context=context, auto_compact=True)
    return graph.serialize(format="turtle")


_CONTEXT_PREFIXES = frozenset(
    {
        "dcat",
        "dct",
        "foaf",
        "skos",
        "vcard",
        "dcatap",
        "healthdcatap",
        "dpv",
        "eli",
        "csvw",
        "rdf",
        "rdfs",
        "xsd",
    }
)
