"""Reading a folder of Frictionless Table Schema descriptors and their code lists.

Layout: table descriptors ``*.json`` anywhere in the folder (``schemas/<product>/``
in schema-snds), code lists under ``nomenclatures/`` as a descriptor whose
fields carry ``role: code|label`` plus a ``;``-separated CSV of the same name.
Everything is read and checked before anything is written; each problem names
the file and the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hdh.catalog.tableschema.codes import CodeListSpec, read_code_list
from hdh.catalog.tableschema.common import Problems, list_files
from hdh.catalog.tableschema.tables import FieldSpec, TableSpec, read_table
from hdh.core.errors import ValidationFailed

__all__ = ["CodeListSpec", "Dictionary", "FieldSpec", "TableSpec", "read_folder"]


@dataclass
class Dictionary:
    tables: list[TableSpec]
    code_lists: list[CodeListSpec]

    @property
    def variable_count(self) -> int:
        return sum(len(t.fields) for t in self.tables)


def read_folder(directory: Path | str) -> Dictionary:
    """Read and check a whole folder; raise :class:`ValidationFailed` naming each problem."""
    root = Path(directory).expanduser().resolve()
    if not root.is_dir():
        raise ValidationFailed(f"{directory}: not a folder")
    problems = Problems()
    nomenclatures = root / "nomenclatures"
    tables: list[TableSpec] = []
    code_lists: list[CodeListSpec] = []
    for path in list_files(root, "*.json"):
        rel = path.relative_to(root).as_posix()
        if path.is_relative_to(nomenclatures):
            spec = read_code_list(root, path, rel, problems)
            if spec is not None:
                code_lists.append(spec)
        else:
            table = read_table(path, rel, problems)
            if table is not None:
                tables.append(table)
    _check_unique([(t.name, t.path) for t in tables], "table", problems)
    _check_unique([(c.name, c.path) for c in code_lists], "code list", problems)
    if not tables and not problems.items:
        problems.add(str(directory), "no Table Schema descriptor (*.json) found")
    problems.raise_if_any()
    return Dictionary(tables=tables, code_lists=code_lists)


def _check_unique(named: list[tuple[str, str]], what: str, problems: Problems) -> None:
    first: dict[str, str] = {}
    for name, rel in named:
        if name in first:
            problems.add(rel, f"{what} {name!r} already described in {first[name]}")
        else:
            first[name] = rel
