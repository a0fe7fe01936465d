"""Reading one table descriptor: its fields, keys and relations."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hdh.catalog import identifiers
from hdh.catalog.tableschema.common import (
    NAME,
    NO_CODE_LIST,
    TYPES,
    Problems,
    field_names,
    load_json,
    text_value,
)


@dataclass
class FieldSpec:
    name: str
    label: str
    description: str
    type: str
    format: str
    length: str
    constraints: dict[str, Any]
    code_list: str
    date_created: str
    date_deleted: str
    management_rule: str
    observation: str
    direct: bool
    potential: bool
    pseudonym: bool
    extra: dict[str, Any]


@dataclass
class TableSpec:
    path: str
    name: str
    title: str
    description: str
    product: str
    primary_key: list[str]
    foreign_keys: list[tuple[list[str], str, list[str], str]]
    history: dict[str, Any]
    extra: dict[str, Any]
    fields: list[FieldSpec]


def read_field(raw: Any, where: str, problems: Problems) -> FieldSpec | None:
    if not isinstance(raw, dict):
        problems.add(where, "must be an object")
        return None
    name = raw.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        problems.add(f"{where}.name", "required: letters, digits, _ . - or space, up to 128")
        return None
    where = f"{where} ({name})"
    kind = raw.get("type", "string")
    if kind not in TYPES:
        problems.add(f"{where}.type", f"unknown Table Schema type {str(kind)[:40]!r}")
    constraints = raw.get("constraints", {})
    if not isinstance(constraints, dict):
        problems.add(f"{where}.constraints", "must be an object")
        constraints = {}
    code_list = text_value(raw.get("nomenclature"), f"{where}.nomenclature", problems, limit=128)
    direct, potential, pseudonym = identifiers.flags(raw)
    known = {
        "name",
        "title",
        "description",
        "type",
        "format",
        "length",
        "constraints",
        "dateCreated",
        "dateDeleted",
        "observation",
        "regle_gestion",
    }
    return FieldSpec(
        name=name,
        label=text_value(raw.get("title"), f"{where}.title", problems, limit=500),
        description=text_value(raw.get("description"), f"{where}.description", problems),
        type=str(kind)[:20],
        format=text_value(raw.get("format"), f"{where}.format", problems, limit=60),
        length=text_value(raw.get("length"), f"{where}.length", problems, limit=20),
        constraints=constraints,
        # "IR_SEX_V:SEX_COD" names the list and the column the values come from.
        code_list="" if code_list in NO_CODE_LIST else code_list.split(":", 1)[0],
        date_created=text_value(raw.get("dateCreated"), f"{where}.dateCreated", problems, limit=30),
        date_deleted=text_value(raw.get("dateDeleted"), f"{where}.dateDeleted", problems, limit=30),
        management_rule=text_value(raw.get("regle_gestion"), f"{where}.regle_gestion", problems),
        observation=text_value(raw.get("observation"), f"{where}.observation", problems),
        direct=direct,
        potential=potential,
        pseudonym=pseudonym,
        extra={k: v for k, v in raw.items() if k not in known},
    )


def read_table(path: Path, rel: str, problems: Problems) -> TableSpec | None:
    data = load_json(path, rel, problems)
    if data is None:
        return None
    name = data.get("name", path.stem)
    if not isinstance(name, str) or not NAME.match(name):
        problems.add(f"{rel}: name", "letters, digits, _ . - or space, up to 128")
        return None
    raw_fields = data.get("fields")
    if not isinstance(raw_fields, list) or not raw_fields:
        problems.add(f"{rel}: fields", "required: a non-empty list")
        return None
    fields: list[FieldSpec] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_fields):
        spec = read_field(raw, f"{rel}: fields[{index}]", problems)
        if spec is None:
            continue
        if spec.name in seen:
            problems.add(f"{rel}: fields[{index}].name", f"duplicate field {spec.name!r}")
            continue
        seen.add(spec.name)
        fields.append(spec)
    primary_key = field_names(data.get("primaryKey", []), f"{rel}: primaryKey", problems)
    for key in primary_key:
        if key not in seen:
            problems.add(f"{rel}: primaryKey", f"no field named {key[:128]!r}")
    foreign_keys = []
    raw_fks = data.get("foreignKeys", [])
    if not isinstance(raw_fks, list):
        problems.add(f"{rel}: foreignKeys", "must be a list")
        raw_fks = []
    for index, fk in enumerate(raw_fks):
        where = f"{rel}: foreignKeys[{index}]"
        reference = fk.get("reference") if isinstance(fk, dict) else None
        if not isinstance(reference, dict):
            problems.add(where, "needs fields and reference{resource, fields}")
            continue
        local = field_names(fk.get("fields"), f"{where}.fields", problems)
        for key in local:
            if key not in seen:
                problems.add(f"{where}.fields", f"no field named {key[:128]!r}")
        target = reference.get("resource", "")
        if not isinstance(target, str) or (target and not NAME.match(target)):
            problems.add(f"{where}.reference.resource", "must be a table name")
            continue
        remote = field_names(reference.get("fields"), f"{where}.reference.fields", problems)
        note = text_value(fk.get("description"), f"{where}.description", problems, limit=500)
        foreign_keys.append((local, target or name, remote, note))
    history = data.get("history", {})
    known = {
        "name",
        "title",
        "description",
        "produit",
        "fields",
        "primaryKey",
        "foreignKeys",
        "history",
    }
    return TableSpec(
        path=rel,
        name=name,
        title=text_value(data.get("title"), f"{rel}: title", problems, limit=500),
        description=text_value(data.get("description"), f"{rel}: description", problems),
        product=text_value(
            data.get("produit", path.parent.name if path.parent.name != "schemas" else ""),
            f"{rel}: produit",
            problems,
            limit=128,
        ),
        primary_key=primary_key,
        foreign_keys=foreign_keys,
        history=history if isinstance(history, dict) else {},
        extra={k: v for k, v in data.items() if k not in known},
        fields=fields,
    )
