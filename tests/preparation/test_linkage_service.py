"""Cohort linkage as a service: a new dataset version, objectors withdrawn, nothing identifying
kept, the cohort file deleted, every failure clean (DuckDB, on both databases)."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from hdh.accounts.models import User
from hdh.audit.models import AuditEvent
from hdh.core import lake
from hdh.core.errors import InvalidState, NotAllowed, ValidationFailed
from hdh.core.governance import service_writes
from hdh.core.permissions import Role
from hdh.keys import pseudonyms
from hdh.preparation import linkages, objections, services
from hdh.preparation.models import LinkageRun, ProjectDataset
from tests.factories.access import staff
from tests.preparation.helpers import NIR_PATTERN
from tests.preparation.linkage_world import COHORT_SIZE, leftovers, request

HEADER = b"record_id,first_name,surname,birth_date,sex,postcode\n"


def events(action: str, run: LinkageRun) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, target_id=str(run.pk)))


def test_a_linkage_publishes_a_new_verified_version_without_objectors(linkable, settings):
    world, source = linkable.world, linkable.dataset
    key = services.key_bytes(world.permit.project, source.key_version)
    inside = {record: p1 for record, p1 in linkable.truth.items() if p1 is not None}
    # Objections filed after the extraction: the tables keep these people (older
    # register), their cohort links are withdrawn (register at the linkage date).
    by_p1 = {p.p1: p for p in world.identities}
    objecting = sorted(set(inside.values()))[:8]
    for p1 in objecting:
        person = by_p1[p1]
        objections.file_objection(nir=person.nir, birth_date=person.birth_date, sex=person.sex)

    queued = request(linkable, threshold=0.9)
    assert queued.status == "queued"
    assert queued.cohort_records >= COHORT_SIZE
    assert [path.name for path in leftovers(settings)] == [f"cohort-run{queued.pk}.csv"]
    done = linkages.execute_linkage(queued.pk)
    assert done.status == "succeeded", done.error

    dataset = done.dataset
    assert dataset.version == source.version + 1
    assert dataset.run is None
    assert dataset.preparation == source.run
    assert services.verify_dataset(dataset) == []
    source.refresh_from_db()
    assert source.superseded_at is not None
    assert list(ProjectDataset.objects.filter(permit=world.permit, superseded_at=None)) == [dataset]
    # The carried-over tables are the same files, checksums unchanged.
    before = {t["table"]: t for t in source.manifest["tables"]}
    after = {t["table"]: t for t in dataset.manifest["tables"]}
    assert set(after) == set(before) | {"COHORT_LINKS"}
    folder, old = lake.root() / dataset.path, lake.root() / source.path
    for name, entry in before.items():
        assert after[name]["sha256"] == entry["sha256"]
        assert (folder / entry["path"]).stat().st_ino == (old / entry["path"]).stat().st_ino
    manifest = dataset.manifest
    assert manifest["linkage"]["based_on"] == source.version
    assert manifest["linkage"]["run"] == done.pk
    assert manifest["objection_register_version"] == source.register_version
    assert manifest["linkage"]["objection_register_version"] == len(objecting)
    assert {f["kind"] for f in manifest["files"]} == {"linkage_report", "linkage_chart"}

    links = pq.read_table(folder / "COHORT_LINKS.parquet").to_pylist()
    assert list(links[0]) == ["record_id", "BEN_NIR_PSA", "match_probability", "linked"]
    assert sorted(row["record_id"] for row in links) == sorted(linkable.truth)
    gone = {pseudonyms.level2(p1, key=key) for p1 in objecting}
    linked = [row for row in links if row["linked"]]
    assert linked
    assert not {row["BEN_NIR_PSA"] for row in links} & gone
    for row in links:
        if inside.get(row["record_id"]) in objecting:
            assert row == {
                "record_id": row["record_id"],
                "BEN_NIR_PSA": None,
                "match_probability": None,
                "linked": False,
            }
    right = sum(
        1
        for row in linked
        if row["BEN_NIR_PSA"] == pseudonyms.level2(inside.get(row["record_id"]) or "-", key=key)
    )
    assert right / len(linked) >= 0.98
    # Linked pseudonyms join the dataset's person column.
    people = {
        row["BEN_NIR_PSA"] for row in pq.read_table(folder / after["IR_BEN_R"]["path"]).to_pylist()
    }
    assert {row["BEN_NIR_PSA"] for row in linked} <= people

    summary = done.summary
    assert summary["records"] == len(linkable.truth)
    assert summary["linked"] == len(linked)
    assert summary["withdrawn_for_objection"] >= 1
    assert summary["comparisons"] > 0
    assert summary["splink_version"].startswith("5.")
    assert summary["expected_at_threshold"]["threshold"] == 0.9
    assert summary["expected_at_threshold"]["precision"] > 0.95
    assert summary["parameters"]["blocking_rules"]

    # The cohort file is gone, and the audit log says so.
    assert not leftovers(settings)
    assert done.cohort_deleted_at is not None
    assert events("linkage.requested", done)
    finished = events("linkage.finished", done)
    assert finished[0].details["linked"] == len(linked)
    assert events("linkage.cohort_deleted", done)[0].outcome == "success"

    # No name, birth date or NIR in the dataset's new files, the summary or the audit.
    blob = "\n".join(
        [
            json.dumps(links, default=str),
            (folder / "COHORT_LINKS_report.json").read_text(),
            (folder / "COHORT_LINKS_match_weights.vl.json").read_text(),
            json.dumps(manifest),
            json.dumps(summary),
            done.error,
            json.dumps([e.details for e in AuditEvent.objects.all()]),
        ]
    )
    identities = linkable.identities
    assert not any(nir in blob for nir in identities["BEN_NIR"])
    # A NIR-shaped token standing alone (digits after a decimal point are probabilities).
    tokens = re.findall(r"(?<![0-9A-Za-z.])[0-9AB]{15}(?![0-9A-Za-z])", blob)
    assert not any(NIR_PATTERN.match(token) for token in tokens)
    rare = {n for n in identities["BEN_NOM_USAGE"] if isinstance(n, str) and len(n) >= 7}
    assert not rare & set(re.findall(r"[A-Z][A-Z'-]{6,}", blob))
    births = {str(d)[:10] for d in identities["BEN_NAI_DTE"]}
    assert not births & set(re.findall(r"\d{4}-\d{2}-\d{2}", blob))
    assert not {p.p1 for p in world.identities} & set(re.findall(r"[A-Z]{17}", blob))


def test_a_failure_leaves_no_version_and_deletes_the_cohort(linkable, settings, tmp_path):
    queued = request(linkable)
    # The identity table becomes unreadable between the upload and the run.
    broken = tmp_path / "broken" / "snds" / "IR_IDENTITE"
    broken.mkdir(parents=True)
    (broken / "part-00000.parquet").write_bytes(b"PAR1 not parquet 1 85 05 12 345 678 90")
    settings.HDH_IDENTITIES = tmp_path / "broken"
    done = linkages.execute_linkage(queued.pk)
    assert done.status == "failed"
    assert done.error
    assert not re.search(r"[0-9a-f]{16,}", done.error)
    assert done.dataset is None
    assert list(ProjectDataset.objects.filter(permit=linkable.world.permit)) == [linkable.dataset]
    datasets = lake.root() / linkable.dataset.path
    assert sorted(p.name for p in datasets.parent.iterdir()) == [datasets.name]
    assert not leftovers(settings)
    assert events("linkage.finished", done)[0].outcome == "failure"
    assert events("linkage.cohort_deleted", done)
    linkable.dataset.refresh_from_db()
    assert linkable.dataset.superseded_at is None
    # A rerun of a finished run does nothing.
    assert linkages.execute_linkage(queued.pk).status == "failed"


def test_the_publication_and_its_audit_event_commit_together(linkable, settings, monkeypatch):
    queued = request(linkable)
    real = linkages.audit.record

    def failing(**kwargs):  # type: ignore[no-untyped-def]
        if kwargs["action"] == "linkage.finished" and kwargs.get("outcome") != "failure":
            raise RuntimeError("audit store unavailable")
        return real(**kwargs)

    monkeypatch.setattr(linkages.audit, "record", failing)
    done = linkages.execute_linkage(queued.pk)
    assert done.status == "failed"
    assert list(ProjectDataset.objects.filter(permit=linkable.world.permit)) == [linkable.dataset]
    datasets = lake.root() / linkable.dataset.path
    assert sorted(p.name for p in datasets.parent.iterdir()) == [datasets.name]
    assert not leftovers(settings)


def test_who_may_request_a_linkage(linkable, settings):
    world = linkable.world
    member = User.objects.get(pk=min(world.permit.member_ids()))
    for person in (member, staff(Role.GUICHET_OFFICER), staff(Role.RESEARCHER)):
        with pytest.raises(NotAllowed):
            request(linkable, by=person)
    insider = staff(Role.DATA_ENGINEER)
    with service_writes():
        world.permit.members = [
            *world.permit.members,
            {"user_id": insider.pk, "username": insider.username, "role": "member"},
        ]
        world.permit.save(update_fields=["members"])
    with pytest.raises(NotAllowed):
        request(linkable, by=insider)
    assert not LinkageRun.objects.exists()
    assert not leftovers(settings)


def test_requests_refused_in_the_wrong_state(linkable, settings, tmp_path):
    identities = settings.HDH_IDENTITIES
    settings.HDH_IDENTITIES = tmp_path / "nowhere"
    with pytest.raises(InvalidState):
        request(linkable)
    settings.HDH_IDENTITIES = identities
    with pytest.raises(ValidationFailed):
        request(linkable, threshold=1.0)
    with pytest.raises(ValidationFailed):
        request(linkable, engine="oracle")
    request(linkable)
    with pytest.raises(InvalidState):
        request(linkable)  # one linkage of a permit at a time
    assert LinkageRun.objects.count() == 1
    assert len(leftovers(settings)) == 1


def test_no_linkage_before_a_dataset_exists(world, settings, tmp_path, synthetic_snds):
    from tests.preparation.linkage_world import place_identities

    settings.HDH_HOME = tmp_path / "home"
    place_identities(settings, tmp_path, synthetic_snds)
    from hdh.preparation.linkages import request_linkage

    with pytest.raises(InvalidState):
        request_linkage(permit=world.permit, chunks=[HEADER], name="c.csv", by=world.engineer)


def _hostile() -> dict[str, tuple[str, bytes]]:
    good = b"R1,Marie,DURAND,1980-01-02,2,75011\n"
    return {
        "pdf": ("cohorte.csv", b"%PDF-1.4\n\x00\x01\x02\xff\xfe binary\n"),
        "extension": ("cohorte.xlsx", HEADER + good),
        "wrong columns": ("cohorte.csv", b"id,nom,prenom\n1,DURAND,Marie\n"),
        "nul": ("cohorte.csv", HEADER + b"R1,Ma\x00rie,DURAND,1980-01-02,2,75011\n"),
        "long cell": (
            "cohorte.csv",
            HEADER + b"R1," + b"A" * 10_000 + b",DURAND,1980-01-02,2,75011\n",
        ),
        "formula": ("cohorte.csv", HEADER + b"R1,=CMD(),DURAND,1980-01-02,2,75011\n"),
        "empty": ("cohorte.csv", b""),
        "header only": ("cohorte.csv", HEADER),
        "nir as id": ("cohorte.csv", HEADER + b"180017512345678,Marie,DURAND,1980-01-02,2,75011\n"),
        "bad date": ("cohorte.csv", HEADER + b"R1,Marie,DURAND,31/02/1980,2,75011\n"),
        "latin-1": (
            "cohorte.csv",
            HEADER + "R1,Hélène,DURAND,1980-01-02,2,75011\n".encode("latin-1"),
        ),
    }


@pytest.mark.parametrize("case", sorted(_hostile()))
def test_hostile_cohort_files_are_refused_and_nothing_is_kept(linkable, settings, case):
    name, data = _hostile()[case]
    with pytest.raises(ValidationFailed) as refused:
        request(linkable, data, name=name)
    text = " ".join([str(refused.value), *refused.value.problems])
    assert "=CMD" not in text
    assert "cohort-" not in text  # the stored file's name is not shown
    assert not LinkageRun.objects.exists()
    assert not leftovers(settings)


def test_problems_name_the_line_and_column(linkable):
    data = (
        HEADER + b"R1,Marie,DURAND,1980-01-02,2,75011\nR2,=HYPERLINK(x),DUPONT,1990-03-04,9,7501\n"
    )
    with pytest.raises(ValidationFailed) as refused:
        request(linkable, data)
    problems = refused.value.problems
    assert any("ligne 3, colonne first_name" in p for p in problems)
    assert any("ligne 3, colonne sex" in p for p in problems)
    assert any("ligne 3, colonne postcode" in p for p in problems)
    assert not any("HYPERLINK" in p for p in problems)


def test_a_file_over_the_size_limit_is_never_kept(linkable, settings):
    settings.HDH_LINKAGE_UPLOAD_MAX_BYTES = 4096
    with pytest.raises(ValidationFailed):
        request(linkable, linkable.cohort_csv)
    assert not leftovers(settings)
    assert not LinkageRun.objects.exists()


def test_rotating_the_key_after_a_linkage_prepares_the_extraction_again(linkable):
    done = linkages.execute_linkage(request(linkable).pk)
    assert done.status == "succeeded", done.error
    world = linkable.world
    runs = services.rotate_project_key(project=world.permit.project, by=world.engineer)
    assert [r.plan_id for r in runs] == [linkable.dataset.run.plan_id]
    rekeyed = services.execute_run(runs[0].pk)
    assert rekeyed.status == "succeeded", rekeyed.error
    names = [t["table"] for t in rekeyed.dataset.manifest["tables"]]
    # The links are carried over to the new key (tests/preparation/test_rotation_links.py).
    assert names.count("COHORT_LINKS") == 1


def test_a_new_cohort_replaces_the_previous_links(linkable):
    first = linkages.execute_linkage(request(linkable).pk)
    assert first.status == "succeeded", first.error
    second = linkages.execute_linkage(request(linkable, threshold=0.99).pk)
    assert second.status == "succeeded", second.error
    assert second.source_dataset == first.dataset
    tables = [t["table"] for t in second.dataset.manifest["tables"]]
    assert tables.count("COHORT_LINKS") == 1
    assert services.verify_dataset(second.dataset) == []
    assert second.dataset.preparation == linkable.dataset.run
    assert Path(lake.root() / second.dataset.path / "COHORT_LINKS.parquet").exists()


def test_preparation_waits_for_a_linkage_under_way(linkable):
    request(linkable)
    with pytest.raises(InvalidState):
        services.start_run(plan=linkable.dataset.run.plan, by=linkable.world.engineer)


def test_the_antivirus_refuses_a_cohort_and_fails_closed(linkable, settings):
    from tests.access.test_scanning import EICAR, start

    folder = Path(tempfile.mkdtemp(prefix="clamd-", dir="/tmp"))
    try:
        clamd, server = start(folder)
        settings.HDH_UPLOAD_SCANNER = clamd.path
        with pytest.raises(ValidationFailed):
            request(linkable, linkable.cohort_csv + EICAR + b"\n")
        assert clamd.received  # the scanner read the file
        refused = AuditEvent.objects.get(action="linkage.upload_refused")
        assert refused.details["reason"] == "malware"
        server.close()
        settings.HDH_UPLOAD_SCANNER = str(folder / "absent.sock")
        with pytest.raises(ValidationFailed):
            request(linkable)
        assert AuditEvent.objects.filter(
            action="linkage.upload_refused", details__reason="scanner_unavailable"
        ).exists()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert not LinkageRun.objects.exists()
    assert not leftovers(settings)
