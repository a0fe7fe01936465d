"""Opening a workspace, the audited SQL console, output previews, the demo project."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
from pathlib import Path

import pytest
from openpyxl import Workbook

from hdh.access.models import Application, Permit
from hdh.access.states import State
from hdh.accounts.models import User
from hdh.audit.models import AuditEvent
from hdh.core.errors import InvalidState, NotAllowed
from hdh.core.governance import DirectWriteRefused
from hdh.management import demo_preparation
from hdh.workspace import demo, jobs, previews, queries, services, storage
from hdh.workspace.models import Workspace, WorkspaceState
from tests.factories.access import create_application_at
from tests.factories.lake import create_snds_base
from tests.preparation.conftest import load_snds
from tests.workspace.factories import Project, researcher

PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def _events(workspace: Workspace, action: str) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            action=action, target_type=queries.TARGET_TYPE, target_id=str(workspace.pk)
        ).order_by("seq")
    )


def _whole_log() -> str:
    return json.dumps(list(AuditEvent.objects.values("action", "details")), ensure_ascii=False)


# --- opening ---------------------------------------------------------------------------
def test_the_workspace_opens_once_per_permit_for_its_members(project: Project) -> None:
    workspace = project.workspace(by=project.member)
    assert workspace.reference == "ET-" + project.permit.reference
    assert workspace.state == WorkspaceState.OPEN
    assert workspace.project == project.permit.project
    assert storage.workspace_folder(workspace.reference).is_dir()
    assert project.workspace(by=project.lead) == workspace
    assert Workspace.objects.count() == 1
    (opened,) = _events(workspace, "workspace.opened")
    assert opened.actor_id == str(project.member.pk)
    assert queries.current_dataset(workspace) == project.dataset
    folder = queries.dataset_folder(project.dataset)
    assert (folder / "manifest.json").is_file()
    assert queries.audit_trail(workspace)[0].action == "workspace.opened"


def test_no_workspace_before_the_data_is_prepared(project: Project) -> None:
    application = create_application_at(State.CONTRACT_SIGNED, base=project.base)
    permit = Permit.objects.get(application=application)
    lead = application.created_by
    with pytest.raises(InvalidState):
        services.workspace_for(permit=permit, by=lead)
    assert not Workspace.objects.filter(permit=permit).exists()
    rows = services.workspaces_of(lead)
    assert [row.state for row in rows] == ["pending"]


def test_workspaces_are_written_through_services_only(project: Project) -> None:
    workspace = project.workspace()
    workspace.state = WorkspaceState.ARCHIVED
    with pytest.raises(DirectWriteRefused):
        workspace.save()
    with pytest.raises(DirectWriteRefused):
        Workspace.objects.filter(pk=workspace.pk).update(state=WorkspaceState.ARCHIVED)


def test_opening_rolls_back_when_its_audit_event_cannot_be_written(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**kwargs):  # type: ignore[no-untyped-def]
        if kwargs["action"] == "workspace.opened":
            raise RuntimeError("audit log unavailable")
        return original(**kwargs)

    original = services.audit.record
    monkeypatch.setattr(services.audit, "record", broken)
    with pytest.raises(RuntimeError):
        project.workspace()
    assert not Workspace.objects.exists()


# --- the console -----------------------------------------------------------------------
def test_a_query_runs_on_the_project_dataset_and_is_audited_by_checksum(project: Project) -> None:
    workspace = project.workspace()
    text = "SELECT BEN_SEX_COD, count(*) AS n FROM ir_ben_r GROUP BY 1 ORDER BY 1"
    result = services.run_console_query(workspace=workspace, sql=text, by=project.member)
    assert result.columns == ["BEN_SEX_COD", "n"]
    assert sum(row[1] for row in result.rows) > 0
    (event,) = _events(workspace, "workspace.query")
    assert event.outcome == "success"
    assert event.actor_id == str(project.member.pk)
    digest = hashlib.sha256(text.encode()).hexdigest()
    assert event.details["sha256"].replace("-", "") == digest
    assert event.details["rows"] == len(result.rows)
    assert event.details["truncated"] is False
    assert event.details["dataset_version"] == project.dataset.version
    assert isinstance(event.details["duration_ms"], int)
    # The text and the values never reach the log.
    log = _whole_log()
    assert "ir_ben_r" not in log
    assert "GROUP BY" not in log
    # No scratch space is left behind.
    scratch = storage.workspace_folder(workspace.reference) / "tmp"
    assert not any(scratch.iterdir())


def test_results_are_capped(project: Project) -> None:
    workspace = project.workspace()
    result = services.run_console_query(
        workspace=workspace, sql="SELECT * FROM range(5000)", by=project.lead
    )
    assert len(result.rows) == 1000
    assert result.truncated
    (event,) = _events(workspace, "workspace.query")
    assert event.details["rows"] == 1000
    assert event.details["truncated"] is True


REFUSED = [
    ("SELECT * FROM read_csv('/etc/passwd')", "function"),
    ("ATTACH ':memory:' AS other", "statement"),
    ("SELECT 1; SELECT 2", "statement"),
    ("SELECT * FROM '/etc/passwd'", None),
    ("SET enable_external_access = true", "statement"),
    ("COPY (SELECT 1) TO '/tmp/x.csv'", "statement"),
    ("SELECT \x00", None),
    ("SELECT '" + "x" * 1_000_000 + "'", "size"),
    ("SELECT nope FROM IR_BEN_R", "error"),
    ("", None),
]


def test_refused_queries_give_the_reason_and_are_audited_without_their_text(
    project: Project,
) -> None:
    workspace = project.workspace()
    for index, (text, kind) in enumerate(REFUSED):
        with pytest.raises(services.ConsoleRefused) as caught:
            services.run_console_query(workspace=workspace, sql=text, by=project.member)
        message = str(caught.value)
        assert message, text[:40]
        assert "Traceback" not in message
        events = _events(workspace, "workspace.query")
        assert len(events) == index + 1
        event = events[-1]
        assert event.outcome == "denied"
        if kind is not None:
            assert event.details["outcome"] == kind, (text[:40], event.details)
        digest = hashlib.sha256(text.encode()).hexdigest()
        assert event.details["sha256"].replace("-", "") == digest
    log = _whole_log()
    for fragment in ("passwd", "ATTACH", "xxxxxxxx", "nope", "x.csv"):
        assert fragment not in log


def test_a_query_that_is_not_text_is_refused(project: Project) -> None:
    workspace = project.workspace()
    for value in (None, b"SELECT 1", 42, ["SELECT 1"]):
        with pytest.raises(services.ConsoleRefused):
            services.run_console_query(workspace=workspace, sql=value, by=project.lead)  # type: ignore[arg-type]


def test_the_console_sees_only_its_own_project(project: Project) -> None:
    workspace = project.workspace()
    other = queries.dataset_folder(project.dataset).parent / "v9999"
    other.mkdir()
    shutil.copy(queries.dataset_folder(project.dataset) / "IR_BEN_R.parquet", other / "X.parquet")
    for text in (
        f"SELECT * FROM read_parquet('{other}/X.parquet')",
        f"SELECT * FROM '{other}/X.parquet'",
        "SELECT * FROM X",
    ):
        with pytest.raises(services.ConsoleRefused):
            services.run_console_query(workspace=workspace, sql=text, by=project.lead)


# --- outputs ---------------------------------------------------------------------------
def _python_job(project: Project, workspace: Workspace, body: str) -> None:
    job = services.submit_job(
        workspace=workspace, kind="python", name="sorties.py", script=body, by=project.lead
    )
    done = services.execute_job(job.pk)
    assert done.status == "succeeded", (done.message, queries.job_log(done))


OUTPUTS_SCRIPT = r"""
import base64, os
out = os.environ["HDH_OUTPUTS"]
with open(os.path.join(out, "table.csv"), "w", encoding="utf-8") as f:
    f.write("sexe;effectif\n1;150\n2;150\n")
with open(os.path.join(out, "notes.md"), "w", encoding="utf-8") as f:
    f.write("# Résultats\n<script>alert(1)</script>\n")
with open(os.path.join(out, "image.png"), "wb") as f:
    f.write(base64.b64decode("{png}"))
with open(os.path.join(out, "faux.png"), "wb") as f:
    f.write(b"GIF89a not a png")
with open(os.path.join(out, "modele.bin"), "wb") as f:
    f.write(bytes(range(256)))
""".replace("{png}", base64.b64encode(PNG_1PX).decode())


@pytest.mark.usefixtures("bwrap_required")
def test_outputs_are_previewed_in_the_page_and_each_view_is_audited(project: Project) -> None:
    workspace = project.workspace()
    _python_job(project, workspace, OUTPUTS_SCRIPT)
    outputs = {o.name: o for o in queries.outputs_of(workspace)}
    assert set(outputs) == {"table.csv", "notes.md", "image.png", "faux.png", "modele.bin"}

    table = services.output_preview(output=outputs["table.csv"], by=project.member).preview
    assert (table.kind, table.columns, table.rows) == (
        "table",
        ["sexe", "effectif"],
        [["1", "150"], ["2", "150"]],
    )
    image = services.output_preview(output=outputs["image.png"], by=project.member).preview
    assert image.kind == "image"
    assert image.data_uri == "data:image/png;base64," + base64.b64encode(PNG_1PX).decode()
    fake = services.output_preview(output=outputs["faux.png"], by=project.member).preview
    assert (fake.kind, fake.data_uri) == ("none", "")
    text = services.output_preview(output=outputs["notes.md"], by=project.member).preview
    assert text.kind == "text"
    assert "<script>" in text.text  # shown as text; the template escapes it
    binary = services.output_preview(output=outputs["modele.bin"], by=project.member).preview
    assert binary.kind == "none"
    assert len(_events(workspace, "workspace.output_viewed")) == 5

    with pytest.raises(NotAllowed):
        services.output_preview(output=outputs["table.csv"], by=researcher())

    # A file changed on disk after the job is not shown as if it were the job's.
    storage.stored(outputs["table.csv"].path).write_text("sexe;effectif\n1;3\n", encoding="utf-8")
    changed = services.output_preview(output=outputs["table.csv"], by=project.member)
    assert changed.preview.kind == "none"
    assert _events(workspace, "workspace.output_viewed")[-1].outcome == "failure"
    # Nor is a file swapped for a link to somewhere else.
    swapped = storage.stored(outputs["notes.md"].path)
    swapped.unlink()
    swapped.symlink_to("/etc/passwd")
    linked = services.output_preview(output=outputs["notes.md"], by=project.member)
    assert (linked.preview.kind, linked.preview.text) == ("none", "")


def test_previews_of_tables_cap_rows_columns_and_cells(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    header = ",".join(f"c{i}" for i in range(300))
    body = "\n".join(",".join(["y" * 2000] + ["1"] * 299) for _ in range(1500))
    path.write_text(header + "\n" + body + "\n", encoding="utf-8")
    shown = previews.preview_file(path, "big.csv", path.stat().st_size)
    assert shown.kind == "table"
    assert len(shown.columns) == previews.MAX_COLUMNS
    assert len(shown.rows) == previews.MAX_ROWS
    assert shown.truncated
    assert len(shown.rows[0][0]) == previews.MAX_CELL + 1


def test_previews_survive_hostile_files(tmp_path: Path) -> None:
    cases = {
        "latin1.csv": "nom;ville\nÉlodie;Besançon\n".encode("cp1252"),
        "empty.csv": b"",
        "nul.csv": b"a,b\n1,\x00\n",
        "quote.csv": b'a,b\n"unterminated,1\n',
        "zip.xlsx": b"PK\x03\x04 not really a workbook",
        "text.xlsx": b"a,b\n1,2\n",
        "binary.txt": bytes(range(256)) * 10,
        "huge.png": PNG_1PX + b"\x00" * (previews.IMAGE_LIMIT + 1),
        "svg.png": b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        shown = previews.preview_file(path, name, len(data))
        assert shown.kind in {"table", "text", "none"}, name
        assert not shown.data_uri, name
    latin = previews.preview_file(tmp_path / "latin1.csv", "latin1.csv", 1)
    assert latin.rows == [["Élodie", "Besançon"]]


def test_previews_of_workbooks_show_the_first_sheet(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["classe", "n"])
    for index in range(1200):
        sheet.append([f"c{index}", index])
    workbook.create_sheet("autre").append(["x"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    path = tmp_path / "t.xlsx"
    path.write_bytes(buffer.getvalue())
    shown = previews.preview_file(path, "t.xlsx", path.stat().st_size)
    assert shown.kind == "table"
    assert shown.columns == ["classe", "n"]
    assert shown.rows[0] == ["c0", "0"]
    assert len(shown.rows) == previews.MAX_ROWS
    assert shown.truncated


def test_stored_paths_never_leave_the_workspaces_root(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.HDH_WORKSPACES = tmp_path / "ws"
    (tmp_path / "ws").mkdir()
    (tmp_path / "secret").write_text("x")
    (tmp_path / "ws" / "link").symlink_to(tmp_path / "secret")
    for bad in ("../secret", "/etc/passwd", "", "a\x00b", "link"):
        with pytest.raises(storage.UnsafePath):
            storage.stored(bad)


def test_audit_digests_never_look_like_identifiers() -> None:
    from hdh.core.redaction import looks_like_nir

    # A digest holding a NIR-shaped run of digits, which bare hex digests sometimes do.
    digest = "c" + "2850175123456" + "c" * 50
    assert looks_like_nir(digest)
    assert not looks_like_nir(jobs.digest_for_audit(digest))
    assert jobs.digest_for_audit(digest).replace("-", "") == digest


# --- the demo --------------------------------------------------------------------------
def test_the_demo_opens_a_prepared_workspace_for_demo_researcher_only(
    db: None, settings, tmp_path: Path, synthetic_snds
) -> None:  # type: ignore[no-untyped-def]
    hooks = demo_preparation.HOOKS["hdh.workspace"]
    assert "skipped" in demo.load(**hooks)
    settings.HDH_HOME = tmp_path / "home"
    base = create_snds_base(tmp_path / "schema", slug="snds")
    load_snds(synthetic_snds, base)
    assert "skipped" in demo.load()  # without the data engineer's step
    summary = demo.load(**hooks)
    application = Application.objects.get(title=demo.TITLE)
    assert application.state == State.WORKSPACE_OPEN
    workspace = Workspace.objects.get(permit__application=application)
    assert str(storage.workspace_folder(workspace.reference)) in summary
    owner = User.objects.get(username="demo-researcher")
    assert [m["username"] for m in workspace.permit.members] == ["demo-researcher"]
    assert [row.workspace for row in services.workspaces_of(owner)] == [workspace]
    result = services.run_console_query(
        workspace=workspace, sql="SELECT count(*) FROM IR_BEN_R", by=owner
    )
    assert result.rows[0][0] > 0
    outsider = User.objects.get(username="demo-researcher-2")
    assert services.workspaces_of(outsider) == []
    with pytest.raises(NotAllowed):
        services.workspace_by_reference(reference=workspace.reference, by=outsider)
    assert "déjà ouvert" in demo.load(**hooks)
    assert Application.objects.filter(title=demo.TITLE).count() == 1
