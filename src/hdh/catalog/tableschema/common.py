"""Limits and helpers shared by the table and code-list readers."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from hdh.core.errors import ValidationFailed

TYPES = frozenset(
    {
        "string",
        "number",
        "integer",
        "boolean",
        "object",
        "array",
        "date",
        "time",
        "datetime",
        "year",
        "yearmonth",
        "duration",
        "geopoint",
        "geojson",
        "any",
        "list",
    }
)
NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\- ]{0,127}\Z")
MAX_DESCRIPTOR_BYTES = 5 * 1024 * 1024
MAX_FILES = 20000
MAX_TEXT = 20000
MAX_PROBLEMS = 50
NO_CODE_LIST = {"", "-"}


class Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, message: str) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(f"{where}: {message}")

    def raise_if_any(self) -> None:
        if self.items:
            raise ValidationFailed(
                f"the Table Schema folder has {len(self.items)} problem(s); first: {self.items[0]}",
                self.items,
            )


def text_value(value: Any, where: str, problems: Problems, *, limit: int = MAX_TEXT) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        problems.add(where, "must be text")
        return ""
    text = str(value).replace("\x00", "")
    if len(text) > limit:
        problems.add(where, f"longer than {limit} characters")
        return ""
    return text


def field_names(value: Any, where: str, problems: Problems) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    problems.add(where, "must be a field name or a list of field names")
    return []


def list_files(root: Path, pattern: str) -> list[Path]:
    found = []
    for path in sorted(root.rglob(pattern)):
        # A link out of the folder is refused rather than followed.
        if not path.resolve().is_relative_to(root):
            raise ValidationFailed(f"{path.relative_to(root)}: points outside the folder")
        if path.is_file():
            found.append(path)
    if len(found) > MAX_FILES:
        raise ValidationFailed(f"more than {MAX_FILES} {pattern} files")
    return found


def load_json(path: Path, rel: str, problems: Problems) -> dict[str, Any] | None:
    if path.stat().st_size > MAX_DESCRIPTOR_BYTES:
        problems.add(rel, f"larger than {MAX_DESCRIPTOR_BYTES} bytes")
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        problems.add(rel, "not UTF-8 text")
        return None
    except json.JSONDecodeError as exc:
        problems.add(rel, f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")
        return None
    except RecursionError:
        problems.add(rel, "JSON nested too deeply")
        return None
    if not isinstance(data, dict):
        problems.add(rel, "a descriptor must be a JSON object")
        return None
    return data
