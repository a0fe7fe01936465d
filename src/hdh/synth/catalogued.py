"""Shapes and code values of a base's catalogued tables (its current dictionary)."""

from __future__ import annotations

from collections.abc import Sequence

from hdh.catalog.models import Base, Code, Table
from hdh.core.errors import ValidationFailed
from hdh.synth.schema import TableShape, from_catalog

MAX_CODES = 5000


def tables_of(base: Base, names: Sequence[str] = ()) -> list[Table]:
    if base.current_version_id is None:
        raise ValidationFailed(f"the base {base.slug} has no data dictionary")
    tables = Table.objects.filter(version_id=base.current_version_id)
    if names:
        tables = tables.filter(name__in=names)
        missing = set(names) - set(tables.values_list("name", flat=True))
        if missing:
            raise ValidationFailed(
                f"not in the dictionary of {base.slug}: {', '.join(sorted(missing))}"
            )
    return list(tables.order_by("position"))


def shapes_of(base: Base, names: Sequence[str] = ()) -> list[TableShape]:
    return [from_catalog(table) for table in tables_of(base, names)]


def code_values(
    base: Base, shapes: Sequence[TableShape], *, limit: int | None = None
) -> dict[str, list[str]]:
    """The codes of every code list the shapes use (the first ``limit`` of each)."""
    wanted = {f.code_list for s in shapes for f in s.fields if f.code_list}
    values: dict[str, list[str]] = {}
    if base.current_version is None:
        return values
    for code_list in base.current_version.code_lists.filter(name__in=wanted, has_values=True):
        codes = Code.objects.filter(code_list=code_list).order_by("position")
        values[code_list.name] = list(codes.values_list("code", flat=True)[:limit])
    return values
