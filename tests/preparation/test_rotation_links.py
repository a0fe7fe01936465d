"""Rotating a project key keeps its cohort links: each link points to the same person
under the new key, joins the new tables, and objectors' links stay withdrawn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hdh.audit.models import AuditEvent
from hdh.core import lake
from hdh.engines import get_engine
from hdh.keys import pseudonyms
from hdh.preparation import linkages, objections, runner, services
from hdh.preparation.models import LinkageRun, ProjectDataset
from tests.access.helpers import client_for
from tests.preparation.linkage_world import Linkable, request


def links_of(dataset: ProjectDataset) -> dict[str, dict[str, Any]]:
    rows = pq.read_table(lake.root() / dataset.path / "COHORT_LINKS.parquet").to_pylist()
    return {row["record_id"]: row for row in rows}


def persons_of(dataset: ProjectDataset, table: str) -> set[str]:
    entry = next(t for t in dataset.manifest["tables"] if t["table"] == table)
    rows = pq.read_table(lake.root() / dataset.path / entry["path"]).to_pylist()
    return {row["BEN_NIR_PSA"] for row in rows}


def object_to(linkable: Linkable, p1s: list[str]) -> None:
    by_p1 = {person.p1: person for person in linkable.world.identities}
    for p1 in p1s:
        person = by_p1[p1]
        objections.file_objection(nir=person.nir, birth_date=person.birth_date, sex=person.sex)


def link(linkable: Linkable) -> LinkageRun:
    done = linkages.execute_linkage(request(linkable).pk)
    assert done.status == "succeeded", done.error
    return done


def rotate(linkable: Linkable) -> ProjectDataset:
    project = linkable.world.permit.project
    runs = services.rotate_project_key(project=project, by=linkable.world.engineer)
    assert len(runs) == 1
    done = services.execute_run(runs[0].pk)
    assert done is not None
    assert done.status == "succeeded", done.error
    return done.dataset


def check_carried_over(linkable: Linkable, *, objected_before: set[str]) -> None:
    """Link, object for a few more linked people, rotate; then check every link."""
    linked_version = link(linkable).dataset
    old_key = services.key_bytes(linkable.world.permit.project, linked_version.key_version)
    by_old = {pseudonyms.level2(p.p1, key=old_key): p.p1 for p in linkable.world.identities}
    before = links_of(linked_version)
    linked_p1 = sorted({by_old[r["BEN_NIR_PSA"]] for r in before.values() if r["linked"]})
    assert len(linked_p1) > 20
    objected_since = set(linked_p1[:5])
    object_to(linkable, sorted(objected_since))

    rekeyed = rotate(linkable)
    assert rekeyed.key_version == linked_version.key_version + 1
    assert services.verify_dataset(rekeyed) == []
    new_key = services.key_bytes(linkable.world.permit.project, rekeyed.key_version)
    after = links_of(rekeyed)
    assert set(after) == set(before)
    people = persons_of(rekeyed, "IR_BEN_R")
    kept = 0
    for record, old in before.items():
        new = after[record]
        person = by_old.get(old["BEN_NIR_PSA"]) if old["BEN_NIR_PSA"] else None
        if not old["linked"]:
            # Unlinked and withdrawn records stay as they were.
            assert new == old
        elif person in objected_since:
            assert new == {
                "record_id": record,
                "BEN_NIR_PSA": None,
                "match_probability": None,
                "linked": False,
            }
        else:
            # The same person, under the new key, and present in the new tables.
            assert new["linked"] is True
            assert new["BEN_NIR_PSA"] == pseudonyms.level2(person, key=new_key)
            assert new["BEN_NIR_PSA"] != old["BEN_NIR_PSA"]
            assert new["BEN_NIR_PSA"] in people
            assert new["match_probability"] == old["match_probability"]
            kept += 1
    linked_before = sum(1 for row in before.values() if row["linked"])
    withdrawn = sum(
        1
        for row in before.values()
        if row["linked"] and by_old[row["BEN_NIR_PSA"]] in objected_since
    )
    assert withdrawn >= len(objected_since)
    assert kept == linked_before - withdrawn
    # Nobody who objected, at either date, keeps a link.
    gone = {pseudonyms.level2(p1, key=new_key) for p1 in objected_since | objected_before}
    assert not {row["BEN_NIR_PSA"] for row in after.values()} & gone

    manifest = rekeyed.manifest
    carried = manifest["linkage"]["carried_over"]
    assert carried == {
        "from_version": linked_version.version,
        "from_key_version": linked_version.key_version,
        "key_version": rekeyed.key_version,
        "records": len(before),
        "linked_before": linked_before,
        "linked": kept,
        "withdrawn_for_objection": withdrawn,
        "withdrawn_not_extracted": 0,
    }
    assert manifest["linkage"]["key_version"] == rekeyed.key_version
    assert manifest["linkage"]["run"] == linked_version.manifest["linkage"]["run"]
    assert {f["kind"] for f in manifest["files"]} == {"linkage_report", "linkage_chart"}
    event = AuditEvent.objects.get(action="linkage.links_rekeyed")
    assert event.target_id == str(rekeyed.pk)
    assert event.details["linked"] == kept
    assert event.details["withdrawn_for_objection"] == withdrawn
    rotated = AuditEvent.objects.get(action="preparation.project_key_rotated")
    assert rotated.details["cohort_links"] == 1
    page = client_for(linkable.world.engineer).get(f"/preparation/jeux/{rekeyed.pk}/")
    text = page.content.decode()
    assert "manifest-verified" in text
    assert f"repris de la version v{linked_version.version}" in text


def test_links_survive_a_key_rotation_on_duckdb(linkable):
    # Objectors before the linkage: withdrawn by the linkage, and still after rotation.
    inside = sorted({p1 for p1 in linkable.truth.values() if p1 is not None})
    objected_before = set(inside[-3:])
    object_to(linkable, sorted(objected_before))
    check_carried_over(linkable, objected_before=objected_before)


OLD_KEY, NEW_KEY = bytes(range(32)), bytes(range(32, 64))


@pytest.mark.database_independent
def test_links_are_rekeyed_alike_on_every_engine(engine_name: str, tmp_path: Path):
    # The re-keying SQL alone, on each engine (a whole Spark preparation is too slow here).
    def old(p1: str) -> str:
        return pseudonyms.level2(p1, key=OLD_KEY)

    def new(p1: str) -> str:
        return pseudonyms.level2(p1, key=NEW_KEY)

    extracted = ["PERSONA", "PERSONB", "PERSONC"]
    pq.write_table(
        pa.table({"p1": extracted, "p2": [new(p) for p in extracted]}), tmp_path / "map.parquet"
    )
    links = [
        ("r1", old("PERSONA"), 0.99, True),
        ("r2", old("PERSONA"), 0.95, True),  # a duplicate in the cohort
        ("r3", old("PERSONB"), 0.97, True),
        ("r4", old("OBJECTOR"), 0.98, True),  # objected since the linkage
        ("r5", old("OUTSIDER"), 0.93, True),  # not in this extraction
        ("r6", None, 0.2, False),  # below the threshold
        ("r7", None, None, False),  # withdrawn by the linkage
    ]
    names = ["record_id", "BEN_NIR_PSA", "match_probability", "linked"]
    pq.write_table(
        pa.Table.from_pylist([dict(zip(names, row, strict=True)) for row in links]),
        tmp_path / "old.parquet",
    )
    carried = runner.CarriedLinks(
        path=tmp_path / "old.parquet",
        key=OLD_KEY,
        table="COHORT_LINKS",
        file_name="COHORT_LINKS.parquet",
        person_column="BEN_NIR_PSA",
    )
    with get_engine(engine_name, workdir=tmp_path / "engine") as engine:
        engine.register_arrow("objectors", pa.table({"p1": ["OBJECTOR", "NOBODY"]}))
        written, counts = runner.rekey_links(
            engine,
            carried,
            mapping=engine.dialect.read_parquet([tmp_path / "map.parquet"]),
            objectors="objectors",
            work=tmp_path,
            out=tmp_path / "out" / "COHORT_LINKS.parquet",
        )
    rows = pq.read_table(tmp_path / "out" / written.file).to_pylist()
    assert [tuple(row.values()) for row in rows] == [
        ("r1", new("PERSONA"), 0.99, True),
        ("r2", new("PERSONA"), 0.95, True),
        ("r3", new("PERSONB"), 0.97, True),
        ("r4", None, None, False),
        ("r5", None, None, False),
        ("r6", None, 0.2, False),
        ("r7", None, None, False),
    ]
    assert written.columns == names
    assert counts == {
        "records": 7,
        "linked_before": 5,
        "linked": 3,
        "withdrawn_for_objection": 1,
        "withdrawn_not_extracted": 1,
    }


def test_a_tampered_links_file_fails_the_rotation_and_publishes_nothing(linkable):
    linked_version = link(linkable).dataset
    path = lake.root() / linked_version.path / "COHORT_LINKS.parquet"
    rows = pq.read_table(path)
    pq.write_table(pa.Table.from_pylist(rows.to_pylist()[1:], schema=rows.schema), path)
    project = linkable.world.permit.project
    runs = services.rotate_project_key(project=project, by=linkable.world.engineer)
    done = services.execute_run(runs[0].pk)
    assert done.status == "failed"
    assert "manifeste" in done.error
    assert list(ProjectDataset.objects.filter(superseded_at=None)) == [linked_version]
    assert not (lake.root() / "projects" / project.reference / "datasets" / "v0003").exists()
