"""Preparing a request: who may, the airlock's own copy, the automated checks, hostile files."""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from hdh.airlock import services, storage
from hdh.airlock.models import ReleaseRequest, RequestFile
from hdh.airlock.states import CheckStatus, FileKind, State
from hdh.audit.models import AuditEvent
from hdh.core.errors import InvalidState, NotAllowed, ValidationFailed
from hdh.core.governance import DirectWriteRefused, service_writes
from hdh.core.permissions import Role
from hdh.workspace.models import WorkspaceState
from tests.airlock.conftest import CONTEXT, CONTROLS, SAFE_TABLE, SMALL_CELL, Project, open_project
from tests.factories.access import researcher, staff

pytestmark = pytest.mark.django_db


def png(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def xlsx(rows: list[list[object]]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def add(project: Project, request: ReleaseRequest, name: str, content: bytes) -> RequestFile:
    return services.add_file(
        by=project.lead, request=request, output=project.output(name, content), group="tables"
    )


# --- Who may prepare a request --------------------------------------------------------


def test_a_member_opens_one_request_at_a_time(project: Project) -> None:
    request = services.create_request(by=project.lead, workspace=project.workspace)
    assert (request.number, request.state, request.turn) == (1, State.PENDING, 1)
    assert request.reference.endswith("-S1")
    assert request.policy["min_count"] == 11
    with pytest.raises(InvalidState):
        services.create_request(by=project.lead, workspace=project.workspace)
    services.withdraw(by=project.lead, request=request)
    second = services.create_request(by=project.lead, workspace=project.workspace)
    assert second.number == 2
    assert AuditEvent.objects.filter(action="airlock.request.created").count() == 2


@pytest.mark.parametrize("who", ["outsider", "checker", "officer"])
def test_people_outside_the_project_cannot_open_a_request(project: Project, who: str) -> None:
    person = {
        "outsider": researcher,
        "checker": lambda: project.checkers[0],
        "officer": lambda: staff(Role.GUICHET_OFFICER),
    }[who]()
    with pytest.raises(NotAllowed):
        services.create_request(by=person, workspace=project.workspace)
    assert not ReleaseRequest.objects.exists()
    assert AuditEvent.objects.filter(
        action="permission.denied", details__permission="release.request"
    ).exists()


def test_an_archived_workspace_takes_no_request_and_no_file(project: Project) -> None:
    request = services.create_request(by=project.lead, workspace=project.workspace)
    output = project.output("table.csv", SAFE_TABLE)
    with service_writes():
        project.workspace.state = WorkspaceState.ARCHIVED
        project.workspace.save()
    request.refresh_from_db()
    with pytest.raises(NotAllowed):
        services.add_file(by=project.lead, request=request, output=output, group="g")
    with pytest.raises(NotAllowed):
        services.create_request(by=project.lead, workspace=project.workspace)


def test_rows_are_written_only_by_the_services(project: Project) -> None:
    request = project.request_with(("table.csv", SAFE_TABLE))
    request.state = State.RELEASED
    with pytest.raises(DirectWriteRefused):
        request.save()
    with pytest.raises(DirectWriteRefused):
        RequestFile.objects.filter(request=request).update(kind=FileKind.SUPPORTING)


# --- The airlock's own copy -------------------------------------------------------------


def test_adding_a_file_takes_a_copy_that_later_changes_do_not_reach(project: Project) -> None:
    request = services.create_request(by=project.lead, workspace=project.workspace)
    output = project.output("table.csv", SMALL_CELL)
    file = services.add_file(by=project.lead, request=request, output=output, group="tables")
    copy = storage.copy_path(file.sha256)
    assert copy.read_bytes() == SMALL_CELL
    assert (file.size, file.media_type, file.kind) == (len(SMALL_CELL), "text/csv", "output")
    assert copy.resolve().is_relative_to(Path(settings.HDH_AIRLOCK).resolve())
    # The job's file changes on disk afterwards: the checkers still see the bytes added.
    (Path(settings.HDH_WORKSPACES) / output.path).write_bytes(b"region,n\nNord,1\n")
    assert storage.read_verified(copy, file.sha256) == SMALL_CELL
    event = AuditEvent.objects.get(action="airlock.file.added")
    assert event.details["sha256"] == storage.audit_digest(file.sha256)
    assert "table.csv" not in str(event.details)


def test_a_file_changed_after_the_job_recorded_it_is_refused(project: Project) -> None:
    request = services.create_request(by=project.lead, workspace=project.workspace)
    output = project.output("table.csv", SAFE_TABLE)
    (Path(settings.HDH_WORKSPACES) / output.path).write_bytes(SMALL_CELL)
    with pytest.raises(ValidationFailed, match="changé"):
        services.add_file(by=project.lead, request=request, output=output, group="g")
    assert not RequestFile.objects.exists()


def test_a_symlink_out_of_the_workspaces_is_refused(project: Project, tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_bytes(SAFE_TABLE)
    request = services.create_request(by=project.lead, workspace=project.workspace)
    output = project.output("lien.csv", SAFE_TABLE)
    target = Path(settings.HDH_WORKSPACES) / output.path
    target.unlink()
    target.symlink_to(secret)
    with pytest.raises(ValidationFailed):
        services.add_file(by=project.lead, request=request, output=output, group="g")


def test_an_output_of_another_workspace_or_an_old_version_is_refused(project: Project) -> None:
    request = services.create_request(by=project.lead, workspace=project.workspace)
    other = open_project()
    with pytest.raises(NotAllowed):
        services.add_file(
            by=project.lead,
            request=request,
            output=other.output("table.csv", SAFE_TABLE),
            group="g",
        )
    old = project.output("table.csv", SMALL_CELL)
    project.output("table.csv", SAFE_TABLE)
    old.refresh_from_db()
    with pytest.raises(ValidationFailed, match="plus récente"):
        services.add_file(by=project.lead, request=request, output=old, group="g")


def test_the_same_name_cannot_be_added_twice(project: Project) -> None:
    request = project.request_with(("table.csv", SAFE_TABLE))
    with pytest.raises(ValidationFailed):
        services.add_file(
            by=project.lead,
            request=request,
            output=request.files.get().output,
            group="autre",
        )


# --- Automated checks ---------------------------------------------------------------------


def test_a_cell_of_four_is_flagged_cell_by_cell_with_a_suggestion(project: Project) -> None:
    request = project.request_with(("table.csv", SMALL_CELL))
    file = request.files.get()
    assert file.check_status == CheckStatus.FAIL
    table = file.checks["tables"][0]
    assert table["columns"] == ["hommes", "femmes"]
    cell = table["rows"][0]["cells"][1]
    assert (cell["value"], cell["verdict"], cell["suggestion"]) == ("4", "fail", "masquer")
    assert [rule["rule"] for rule in cell["rules"]] == ["threshold"]
    assert "11" in cell["rules"][0]["message"]
    # Secondary suppression: the other cells that would give the 4 away.
    secondary = [
        (i, j)
        for i, row in enumerate(table["rows"])
        for j, c in enumerate(row["cells"])
        if any(rule["rule"] == "secondary" for rule in c["rules"])
    ]
    assert secondary
    results = file.results["results"]["table.csv"]
    assert results["files"][0]["sdc"]["cells"]["MinimumThresholdCheck"] == [[0, 1]]
    assert file.results["hdh_policy"]["min_count"] == 11


def test_a_safe_table_passes(project: Project) -> None:
    request = project.request_with(("table.csv", SAFE_TABLE))
    assert request.files.get().check_status == CheckStatus.PASS


def test_thresholds_come_from_the_setting(project: Project, settings) -> None:  # type: ignore[no-untyped-def]
    settings.HDH_AIRLOCK_POLICY = '{"min_count": 3, "secondary_suppression": false}'
    request = project.request_with(("table.csv", SMALL_CELL))
    file = request.files.get()
    assert file.check_status == CheckStatus.PASS
    assert request.policy["min_count"] == 3


@pytest.mark.parametrize(
    "raw",
    ["{", "[1]", '{"min_count": 0}', '{"unknown": 1}', '{"min_count": "eleven"}'],
)
def test_a_malformed_policy_setting_is_a_configuration_error(settings, raw: str) -> None:  # type: ignore[no-untyped-def]
    settings.HDH_AIRLOCK_POLICY = raw
    with pytest.raises(ImproperlyConfigured):
        storage.policy()


def test_an_xlsx_table_is_checked_sheet_by_sheet(project: Project) -> None:
    content = xlsx([["region", "hommes"], ["Nord", 3], ["Sud", 50], ["Est", 70]])
    request = project.request_with(("table.xlsx", content))
    file = request.files.get()
    assert file.check_status == CheckStatus.FAIL
    assert file.media_type.endswith("spreadsheetml.sheet")
    assert any(
        cell["value"] == "3" and cell["verdict"] == "fail"
        for row in file.checks["tables"][0]["rows"]
        for cell in row["cells"]
    )


def test_a_png_figure_and_text_files_are_accepted(project: Project) -> None:
    request = project.request_with(
        ("figure.png", png()),
        ("modele.txt", b"OLS: coefficient 0.42, ddl residuels 807\n"),
        ("notes.md", b"# Notes\nEffectifs arrondis a 5.\n"),
    )
    files = {f.name: f for f in request.files.all()}
    assert files["figure.png"].check_status == CheckStatus.PASS
    assert files["figure.png"].media_type == "image/png"
    assert files["modele.txt"].check_status == CheckStatus.REVIEW
    assert files["notes.md"].media_type == "text/markdown"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("archive.zip", b"PK\x03\x04" + b"\x00" * 40),
        ("script.py", b"print('hello')\n"),
        ("sans-extension", b"region,n\n"),
        ("table.parquet", b"PAR1"),
        ("page.html", b"<script>alert(1)</script>"),
        ("figure.svg", b"<svg onload='alert(1)'/>"),
    ],
)
def test_types_outside_the_allow_list_are_refused(
    project: Project, name: str, content: bytes
) -> None:
    request = services.create_request(by=project.lead, workspace=project.workspace)
    with pytest.raises(ValidationFailed, match="Type de fichier refusé"):
        add(project, request, name, content)
    assert not RequestFile.objects.exists()
    assert not list((Path(settings.HDH_AIRLOCK) / "files").glob("*/*"))


@pytest.mark.parametrize(
    ("name", "content", "rule"),
    [
        ("binaire.csv", bytes(range(256)) * 8, "type"),
        ("latin1.csv", "région,n\nÎle,12\n".encode("latin-1"), "type"),
        ("faux.png", b"region,n\nNord,12\n", "type"),
        ("faux.xlsx", b"region,n\nNord,12\n", "type"),
        ("zip.xlsx", b"PK\x03\x04not really a workbook" * 10, "file"),
        ("nir.txt", b"Patient 1 85 05 78 006 084 91 gueri\n", "identifier"),
        ("ids.csv", b"patient_id,n\na,12\nb,13\n", "identifier"),
        ("formule.csv", b"region,n\nNord,=1+1\n", "formula"),
        (
            "micro.csv",
            b"commune,sexe,n\n" + b"".join(f"Commune {i},F,1\n".encode() for i in range(20)),
            "microdata",
        ),
    ],
)
def test_files_that_are_not_safe_results_are_blocked_from_submission(
    project: Project, name: str, content: bytes, rule: str
) -> None:
    request = project.request_with((name, content))
    file = request.files.get()
    assert file.check_status == CheckStatus.BLOCKED, file.checks
    assert rule in {f["rule"] for f in file.checks["findings"]}
    with pytest.raises(ValidationFailed) as refused:
        services.submit(by=project.lead, request=request)
    assert any(name in problem for problem in refused.value.problems)
    request.refresh_from_db()
    assert request.state == State.PENDING


def test_a_file_over_the_size_limit_is_refused_without_a_copy(project: Project) -> None:
    request = services.create_request(by=project.lead, workspace=project.workspace)
    output = project.output("grand.csv", b"region,n\n")
    path = Path(settings.HDH_WORKSPACES) / output.path
    with path.open("r+b") as handle:  # 50 MB, sparse: written without the bytes
        handle.truncate(50 * 1024 * 1024)
    with pytest.raises(ValidationFailed, match="Mio"):
        services.add_file(by=project.lead, request=request, output=output, group="g")
    assert not RequestFile.objects.exists()
    assert not list((Path(settings.HDH_AIRLOCK) / "files").glob("*/*"))


def test_an_xlsx_bomb_is_refused_by_the_checks(project: Project) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (8 * 16 * 1024 * 1024 + 1))
    request = project.request_with(("bombe.xlsx", buffer.getvalue()))
    file = request.files.get()
    assert file.check_status == CheckStatus.BLOCKED
    assert "volumineuse" in str(file.checks["findings"])


# --- Groups, submission, hostile text -------------------------------------------------------


def test_submission_needs_context_and_controls_for_every_group(project: Project) -> None:
    request = services.create_request(by=project.lead, workspace=project.workspace)
    add(project, request, "table.csv", SAFE_TABLE)
    with pytest.raises(ValidationFailed) as refused:
        services.submit(by=project.lead, request=request)
    assert "tables" in " ".join(refused.value.problems)
    services.save_group(
        by=project.lead, request=request, name="tables", context=CONTEXT, controls=""
    )
    with pytest.raises(ValidationFailed):
        services.submit(by=project.lead, request=request)
    services.save_group(
        by=project.lead, request=request, name="tables", context=CONTEXT, controls=CONTROLS
    )
    services.submit(by=project.lead, request=request)
    assert request.state == State.SUBMITTED


def test_submission_needs_an_output_not_only_supporting_files(project: Project) -> None:
    request = project.request_with(("notes.md", b"# Code\n"), kind=FileKind.SUPPORTING)
    with pytest.raises(ValidationFailed, match="soumise"):
        services.submit(by=project.lead, request=request)


@pytest.mark.parametrize(
    ("context", "error"),
    [("a\x00b", "nul"), ("x" * 5001, "5000"), ("   ", None)],
)
def test_hostile_group_text_is_refused(project: Project, context: str, error: str | None) -> None:
    request = services.create_request(by=project.lead, workspace=project.workspace)
    if error is None:
        group = services.save_group(
            by=project.lead, request=request, name="g", context=context, controls="c"
        )
        assert group.context == ""
        return
    with pytest.raises(ValidationFailed, match=error):
        services.save_group(
            by=project.lead, request=request, name="g", context=context, controls="c"
        )


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "a\x00b"])
def test_hostile_group_names_are_refused(project: Project, name: str) -> None:
    request = services.create_request(by=project.lead, workspace=project.workspace)
    with pytest.raises(ValidationFailed):
        services.save_group(by=project.lead, request=request, name=name, context="c", controls="c")


def test_files_change_only_while_the_request_is_with_the_project(project: Project) -> None:
    request = project.submitted()
    file = request.files.get()
    with pytest.raises(InvalidState):
        add(project, request, "autre.csv", SAFE_TABLE)
    with pytest.raises(InvalidState):
        services.replace_file(by=project.lead, file=file)
    with pytest.raises(InvalidState):
        services.remove_file(by=project.lead, file=file)
    with pytest.raises(InvalidState):
        services.save_group(
            by=project.lead, request=request, name="tables", context="x", controls="y"
        )


def test_a_pending_file_can_be_removed_and_added_again(project: Project) -> None:
    request = project.request_with(("table.csv", SMALL_CELL))
    file = request.files.get()
    services.remove_file(by=project.lead, file=file)
    assert not request.files.exists()
    add(project, request, "table.csv", SAFE_TABLE)
    assert request.files.get().check_status == CheckStatus.PASS


def test_replacing_takes_the_newest_output_of_the_same_name(project: Project) -> None:
    request = project.request_with(("table.csv", SMALL_CELL))
    file = request.files.get()
    with pytest.raises(ValidationFailed, match="pas changé"):
        services.replace_file(by=project.lead, file=file)
    project.output("table.csv", SAFE_TABLE)
    replaced = services.replace_file(by=project.lead, file=file)
    assert replaced.version == 2
    assert replaced.check_status == CheckStatus.PASS
    assert storage.copy_path(replaced.sha256).read_bytes() == SAFE_TABLE
    # The old copy stays: it is what earlier votes and comments were about.
    assert os.path.exists(storage.copy_path(RequestFile(sha256=_sha(SMALL_CELL)).sha256))


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def test_a_file_changes_kind_only_while_editable(project: Project) -> None:
    request = project.request_with(("table.csv", SAFE_TABLE), ("notes.md", b"# Code\n"))
    notes = request.files.get(name="notes.md")
    services.change_kind(by=project.lead, file=notes, kind=FileKind.SUPPORTING)
    notes.refresh_from_db()
    assert notes.kind == FileKind.SUPPORTING
    with pytest.raises(ValidationFailed):
        services.change_kind(by=project.lead, file=notes, kind="code")
    services.submit(by=project.lead, request=request)
    with pytest.raises(InvalidState):
        services.change_kind(by=project.lead, file=notes, kind=FileKind.OUTPUT)


def test_audit_digests_never_look_like_a_national_identifier() -> None:
    from hdh.core.redaction import looks_like_nir

    digest = "1850578006084" + "a" * 51
    assert looks_like_nir(digest)
    assert not looks_like_nir(storage.audit_digest(digest))
    assert storage.audit_digest(digest).replace("-", "") == digest


def test_the_demo_hook_reports_the_checkers_ready(project: Project) -> None:
    from hdh.airlock import demo

    project.request_with(("table.csv", SAFE_TABLE))
    assert demo.load() == "3 output checker(s) ready, 1 release request(s)"
