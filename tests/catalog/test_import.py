"""Importing Table Schema folders: the SNDS whole, small folders, and bad ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F

from hdh.audit.models import AuditEvent
from hdh.catalog import demo
from hdh.catalog.models import Base, Code, CodeList, Relation, Table, Variable
from hdh.catalog.services.dictionary import import_tableschema
from hdh.core.errors import ValidationFailed
from tests.factories.catalog import create_test_base, import_small, small_folder, write_folder

pytestmark = pytest.mark.django_db


def test_the_whole_snds_is_loaded(catalog: str) -> None:
    snds = Base.objects.get(slug="snds")
    version = snds.current_version
    assert version is not None
    assert Table.objects.filter(version=version).count() == 188
    assert Variable.objects.filter(table__version=version).count() == 4815
    assert Relation.objects.filter(table__version=version).count() == 197
    assert CodeList.objects.filter(version=version).count() == 505
    assert Code.objects.filter(code_list__version=version).count() > 400_000
    # Three code lists are described without their CSV in the source.
    assert CodeList.objects.filter(version=version, has_values=False).count() == 3
    prs = Table.objects.get(version=version, name="ER_PRS_F")
    assert len(prs.primary_key) == 9
    assert set(prs.relations.values_list("target__name", flat=True)) >= {"IR_BEN_R", "DA_PRA_R"}
    sex = Variable.objects.get(table__version=version, table__name="IR_BEN_R", name="BEN_SEX_COD")
    assert sex.code_list is not None
    assert sex.code_list.name == "IR_SEX_V"
    assert sex.code_list.codes.filter(code="2", label="FEMININ").exists()
    assert Variable.objects.get(
        table=Table.objects.get(version=version, name="IR_BEN_R"), name="BEN_NIR_PSA"
    ).is_pseudonym


def test_demo_load_is_idempotent(catalog: str) -> None:
    before = Table.objects.count(), AuditEvent.objects.count()
    assert demo.load() == catalog
    assert (Table.objects.count(), AuditEvent.objects.count()) == before
    assert "5 bases" in catalog
    oscour = Base.objects.get(slug="oscour")
    assert Table.objects.filter(version=oscour.current_version).count() == 1


def test_import_records_one_audit_event_with_counts(tmp_path: Path) -> None:
    base = create_test_base()
    version = import_small(base, tmp_path)
    base.refresh_from_db()
    assert base.current_version == version
    event = AuditEvent.objects.get(
        action="catalog.dictionary.imported", target_type="catalog.base", target_id=str(base.pk)
    )
    assert event.details["tables"] == 2
    assert event.details["variables"] == 4
    assert event.details["code_lists"] == 1
    assert event.details["codes"] == 3
    assert event.details["relations"] == 1
    relation = Relation.objects.get(table__version=version)
    assert relation.target is not None
    assert relation.target.name == "PATIENT"
    patient = Variable.objects.get(table__version=version, name="PAT_ID", table__name="PATIENT")
    assert patient.is_pseudonym
    assert Variable.objects.get(table__version=version, name="SEJ_DTE").is_potential_identifier


def test_a_new_import_is_a_new_version_and_the_old_one_stays(tmp_path: Path) -> None:
    base = create_test_base()
    first = import_small(base, tmp_path / "a")
    second = import_small(base, tmp_path / "b")
    base.refresh_from_db()
    assert (first.number, second.number) == (1, 2)
    assert base.current_version == second
    assert Table.objects.filter(version=first).count() == 2
    current = Table.objects.filter(version__base=base, version__base__current_version=F("version"))
    assert current.count() == 2


def _nothing_written(base: Base) -> None:
    base.refresh_from_db()
    assert base.current_version is None
    assert not Table.objects.filter(version__base=base).exists()
    assert not AuditEvent.objects.filter(
        action="catalog.dictionary.imported", target_type="catalog.base", target_id=str(base.pk)
    ).exists()


BAD_TABLES = [
    ({"fields": []}, "fields"),
    ({"fields": [{"description": "no name"}]}, "fields[0].name"),
    ({"fields": [{"name": "A", "type": "decimal"}]}, "fields[0] (A).type"),
    ({"fields": [{"name": "A"}, {"name": "A"}]}, "duplicate field"),
    ({"fields": [{"name": "A"}], "primaryKey": ["B"]}, "primaryKey"),
    (
        {
            "fields": [{"name": "A"}],
            "foreignKeys": [{"fields": "B", "reference": {"resource": "T", "fields": "A"}}],
        },
        "foreignKeys[0].fields",
    ),
    ({"fields": [{"name": "A"}], "foreignKeys": ["oops"]}, "foreignKeys[0]"),
    ({"fields": [{"name": "A", "description": "x" * 20001}]}, "fields[0] (A).description"),
    ({"fields": [{"name": "A", "description": ["not", "text"]}]}, "must be text"),
    ({"fields": [{"name": "../../etc/passwd"}]}, "fields[0].name"),
    ({"fields": [{"name": "A"}], "name": "a/b"}, "name"),
]


@pytest.mark.parametrize(("descriptor", "named"), BAD_TABLES)
def test_a_bad_table_names_the_file_and_field_and_writes_nothing(
    tmp_path: Path, descriptor: dict[str, object], named: str
) -> None:
    base = create_test_base()
    small_folder(tmp_path)
    path = tmp_path / "schemas" / "TEST" / "BAD.json"
    path.write_text(json.dumps(descriptor), encoding="utf-8")
    with pytest.raises(ValidationFailed) as error:
        import_tableschema(directory=tmp_path, base=base, by=None)
    assert "schemas/TEST/BAD.json" in str(error.value)
    assert any(named in problem for problem in error.value.problems)
    _nothing_written(base)


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ("{not json", "invalid JSON at line 1"),
        ("[1, 2]", "must be a JSON object"),
        ("[" * 100_000 + "]" * 100_000, "JSON"),
        (b"\xff\xfe\x00bad", "UTF-8"),
    ],
)
def test_malformed_json_is_refused(tmp_path: Path, content: str | bytes, named: str) -> None:
    base = create_test_base()
    small_folder(tmp_path)
    path = tmp_path / "schemas" / "TEST" / "BAD.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ValidationFailed) as error:
        import_tableschema(directory=tmp_path, base=base, by=None)
    assert "schemas/TEST/BAD.json" in error.value.problems[0]
    assert named in error.value.problems[0]
    _nothing_written(base)


@pytest.mark.parametrize(
    ("descriptor", "rows", "named"),
    [
        ({"fields": [{"name": "COD"}, {"name": "LIB"}]}, "COD;LIB\n1;a\n", "role 'code'"),
        ({"fields": [{"name": "COD", "role": "code"}]}, "OTHER;LIB\n1;a\n", "no column 'COD'"),
        ({"fields": [{"name": "COD", "role": "code"}]}, "COD\n" + "x" * 101 + "\n", "line 2, COD"),
    ],
)
def test_a_bad_code_list_is_refused(
    tmp_path: Path, descriptor: dict[str, object], rows: str, named: str
) -> None:
    base = create_test_base()
    small_folder(tmp_path)
    write_folder(tmp_path, {}, {"BROKEN": (descriptor, rows)})
    with pytest.raises(ValidationFailed) as error:
        import_tableschema(directory=tmp_path, base=base, by=None)
    assert any("nomenclatures/TEST/BROKEN" in p and named in p for p in error.value.problems)
    _nothing_written(base)


def test_a_link_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    base = create_test_base()
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps({"fields": [{"name": "A"}]}), encoding="utf-8")
    folder = small_folder(tmp_path / "folder")
    (folder / "schemas" / "TEST" / "LINK.json").symlink_to(outside)
    with pytest.raises(ValidationFailed, match="points outside the folder"):
        import_tableschema(directory=folder, base=base, by=None)
    _nothing_written(base)


@pytest.mark.parametrize("directory", ["/nonexistent/folder", "../../../../etc/passwd", ""])
def test_a_missing_folder_is_refused(directory: str) -> None:
    base = create_test_base()
    with pytest.raises(ValidationFailed):
        import_tableschema(directory=directory or "/dev/null", base=base, by=None)
    _nothing_written(base)


def test_an_empty_folder_is_refused(tmp_path: Path) -> None:
    base = create_test_base()
    with pytest.raises(ValidationFailed, match="no Table Schema descriptor"):
        import_tableschema(directory=tmp_path, base=base, by=None)


def test_nothing_is_written_when_the_audit_write_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = create_test_base()

    def broken(**kwargs: object) -> None:
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr("hdh.catalog.services.dictionary.audit.record", broken)
    with pytest.raises(RuntimeError):
        import_small(base, tmp_path)
    _nothing_written(base)


def test_the_command_imports_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = create_test_base()
    call_command("catalog", "import-tableschema", str(small_folder(tmp_path)), "--base", base.slug)
    out = capsys.readouterr().out
    assert "2 tables, 4 variables, 1 code lists" in out


def test_the_command_reports_problems(tmp_path: Path) -> None:
    base = create_test_base()
    (tmp_path / "T.json").write_text("{", encoding="utf-8")
    with pytest.raises(CommandError, match=r"T\.json"):
        call_command("catalog", "import-tableschema", str(tmp_path), "--base", base.slug)
    with pytest.raises(CommandError, match="no base"):
        call_command("catalog", "import-tableschema", str(tmp_path), "--base", "nope")
