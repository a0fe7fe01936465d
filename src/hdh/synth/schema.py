"""The shape of a catalogued table, as the generators and the lake need it.

Shapes come from the catalog (the current dictionary version of a base) or,
where no database is at hand (benchmarks), from the same Table Schema files the
catalog imports.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hdh.engines.types import Column

if TYPE_CHECKING:
    import pyarrow as pa

    from hdh.catalog.models import Table

SNDS_SCHEMA = Path(__file__).resolve().parents[1] / "catalog" / "data" / "schema-snds"


@dataclass(frozen=True)
class FieldShape:
    name: str
    type: str = "string"
    format: str = ""
    length: str = ""
    constraints: dict[str, Any] = field(default_factory=dict)
    code_list: str = ""

    @property
    def column(self) -> Column:
        return Column(self.name, self.type, self.format)

    @property
    def max_length(self) -> int | None:
        """Characters allowed (strings) or digits allowed (integers), from ``length``."""
        declared = self.constraints.get("maxLength")
        if isinstance(declared, int):
            return declared
        head = self.length.split(",", 1)[0].strip()
        return int(head) if head.isdigit() and int(head) > 0 else None

    @property
    def required(self) -> bool:
        return bool(self.constraints.get("required"))


@dataclass(frozen=True)
class ForeignKey:
    fields: tuple[str, ...]
    target: str
    target_fields: tuple[str, ...]


@dataclass(frozen=True)
class TableShape:
    name: str
    fields: tuple[FieldShape, ...]
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()

    def field(self, name: str) -> FieldShape:
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(f"{self.name} has no column {name}")

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    def arrow_schema(self) -> pa.Schema:
        import pyarrow as pa

        return pa.schema([(f.name, arrow_type(f.column.storage)) for f in self.fields])


def arrow_type(storage: str) -> pa.DataType:
    import pyarrow as pa

    return {
        "integer": pa.int64(),
        "number": pa.float64(),
        "boolean": pa.bool_(),
        "date": pa.date32(),
        "datetime": pa.timestamp("us"),
        "year": pa.int32(),
    }.get(storage, pa.string())


def _names(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value or ())


def from_descriptor(descriptor: dict[str, Any]) -> TableShape:
    """A shape from a Table Schema descriptor (schema-snds keys understood)."""
    fields = []
    for raw in descriptor.get("fields", []):
        code_list = str(raw.get("nomenclature") or "")
        fields.append(
            FieldShape(
                name=raw["name"],
                type=str(raw.get("type", "string")),
                format=str(raw.get("format", "")),
                length=str(raw.get("length") or ""),
                constraints=dict(raw.get("constraints") or {}),
                code_list="" if code_list in {"", "-"} else code_list.split(":", 1)[0],
            )
        )
    keys = []
    for fk in descriptor.get("foreignKeys", []):
        reference = fk.get("reference", {})
        keys.append(
            ForeignKey(
                _names(fk.get("fields")),
                str(reference.get("resource", "")),
                _names(reference.get("fields")),
            )
        )
    return TableShape(
        name=descriptor["name"],
        fields=tuple(fields),
        primary_key=_names(descriptor.get("primaryKey")),
        foreign_keys=tuple(keys),
    )


def from_catalog(table: Table) -> TableShape:
    """A shape from a catalogued table (its variables, keys and relations)."""
    fields = tuple(
        FieldShape(
            name=v.name,
            type=v.type,
            format=v.format,
            length=v.length,
            constraints=dict(v.constraints or {}),
            code_list=v.code_list.name if v.code_list is not None else v.code_list_name,
        )
        for v in table.variables.select_related("code_list").order_by("position")
    )
    keys = tuple(
        ForeignKey(tuple(r.fields), r.target_name, tuple(r.target_fields))
        for r in table.relations.all()
    )
    return TableShape(table.name, fields, tuple(table.primary_key or ()), keys)


def snds_shapes(names: list[str], *, base_slug: str = "snds") -> dict[str, TableShape]:
    """Shapes of SNDS tables: from the catalog when the base is there, else from schema-snds."""
    from hdh.catalog.models import Base

    base = Base.objects.filter(slug=base_slug).select_related("current_version").first()
    if base is not None and base.current_version is not None:
        tables = {t.name: t for t in base.current_version.tables.filter(name__in=names)}
        if set(tables) == set(names):
            return {name: from_catalog(tables[name]) for name in names}
    return snds_shapes_from_files(names)


def snds_shapes_from_files(names: list[str]) -> dict[str, TableShape]:
    wanted = set(names)
    found: dict[str, TableShape] = {}
    for path in sorted((SNDS_SCHEMA / "schemas").rglob("*.json")):
        if path.stem in wanted:
            found[path.stem] = from_descriptor(json.loads(path.read_text(encoding="utf-8")))
    missing = wanted - set(found)
    if missing:
        raise LookupError(f"SNDS tables not described: {', '.join(sorted(missing))}")
    return found
