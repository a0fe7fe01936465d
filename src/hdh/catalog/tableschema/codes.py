"""Reading one code list: its descriptor (``role: code|label``) and its ``;``-separated CSV."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from hdh.catalog.tableschema.common import NAME, Problems, load_json, text_value

MAX_CSV_BYTES = 50 * 1024 * 1024
MAX_CODE = 100
MAX_LABEL = 2000
csv.field_size_limit(MAX_LABEL * 10)


@dataclass
class CodeListSpec:
    path: str
    name: str
    title: str
    description: str
    source: str
    code_field: str
    label_field: str
    columns: list[str]
    has_values: bool
    codes: list[tuple[str, str]] = field(default_factory=list)


def read_code_list(root: Path, path: Path, rel: str, problems: Problems) -> CodeListSpec | None:
    data = load_json(path, rel, problems)
    if data is None:
        return None
    name = data.get("name", path.stem)
    if not isinstance(name, str) or not NAME.match(name):
        problems.add(f"{rel}: name", "letters, digits, _ . - or space, up to 128")
        return None
    raw_fields = data.get("fields")
    if (
        not isinstance(raw_fields, list)
        or not raw_fields
        or not all(isinstance(f, dict) and isinstance(f.get("name"), str) for f in raw_fields)
    ):
        problems.add(f"{rel}: fields", "required: a non-empty list of named fields")
        return None
    columns = [f["name"] for f in raw_fields]
    roles = {f.get("role"): f["name"] for f in reversed(raw_fields)}
    code_field = roles.get("code")
    if code_field is None:
        problems.add(f"{rel}: fields", "one field must have role 'code'")
        return None
    label_field = roles.get("label") or next(
        (c for c in columns if c != code_field and "LIB" in c.upper()),
        next((c for c in columns if c != code_field), ""),
    )
    spec = CodeListSpec(
        path=rel,
        name=name,
        title=text_value(data.get("title"), f"{rel}: title", problems, limit=500),
        description=text_value(data.get("description"), f"{rel}: description", problems),
        source=path.parent.name if path.parent.name != "nomenclatures" else "",
        code_field=code_field,
        label_field=label_field,
        columns=columns,
        has_values=path.with_suffix(".csv").is_file(),
    )
    if spec.has_values:
        read_codes(root, path.with_suffix(".csv"), rel[:-5] + ".csv", spec, problems)
    return spec


def read_codes(root: Path, path: Path, rel: str, spec: CodeListSpec, problems: Problems) -> None:
    if not path.resolve().is_relative_to(root):
        problems.add(rel, "points outside the folder")
        return
    if path.stat().st_size > MAX_CSV_BYTES:
        problems.add(rel, f"larger than {MAX_CSV_BYTES} bytes")
        return
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle, delimiter=";")
            header = next(reader, [])
            if spec.code_field not in header:
                problems.add(f"{rel}: header", f"no column {spec.code_field!r}")
                return
            code_at = header.index(spec.code_field)
            label_at = header.index(spec.label_field) if spec.label_field in header else None
            for line, row in enumerate(reader, start=2):
                if not row:
                    continue
                code = row[code_at] if code_at < len(row) else ""
                if len(code) > MAX_CODE:
                    problems.add(
                        f"{rel}: line {line}, {spec.code_field}",
                        f"code longer than {MAX_CODE} characters",
                    )
                    continue
                label = row[label_at] if label_at is not None and label_at < len(row) else ""
                spec.codes.append((code.replace("\x00", ""), label[:MAX_LABEL].replace("\x00", "")))
    except UnicodeDecodeError:
        problems.add(rel, "not UTF-8 text")
    except csv.Error as exc:
        problems.add(rel, f"malformed CSV: {exc}")
