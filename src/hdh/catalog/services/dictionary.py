"""Importing a data dictionary: a new version of a base's tables, variables and code lists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Max

from hdh.audit import services as audit
from hdh.catalog.bulk import insert_rows, prepare_for_bulk_writes
from hdh.catalog.models import Base, Code, CodeList, DictionaryVersion, Relation, Table, Variable
from hdh.catalog.search.index import reindex_base
from hdh.catalog.search.text import fold
from hdh.catalog.tableschema import Dictionary, read_folder
from hdh.core import clock

BATCH = 2000


def import_tableschema(*, directory: Path | str, base: Base, by: Any) -> DictionaryVersion:
    """Import a Table Schema folder as the new current version of ``base``'s dictionary.

    The folder is read and checked whole first; a problem raises
    :class:`~hdh.core.errors.ValidationFailed` naming the file and field, and
    nothing is written.
    """
    dictionary = read_folder(directory)
    prepare_for_bulk_writes()
    with transaction.atomic():
        base = Base.objects.select_for_update().get(pk=base.pk)
        version = _write(dictionary, base=base, by=by, source=Path(directory).name)
        base.current_version = version
        base.updated_at = clock.now()
        base.save(update_fields=["current_version", "updated_at"])
        documents = reindex_base(base)
        audit.record(
            action="catalog.dictionary.imported",
            by=by,
            target=base,
            details={
                "version": version.number,
                "tables": len(dictionary.tables),
                "variables": dictionary.variable_count,
                "relations": sum(len(t.foreign_keys) for t in dictionary.tables),
                "code_lists": len(dictionary.code_lists),
                "codes": sum(len(c.codes) for c in dictionary.code_lists),
                "search_documents": documents,
            },
        )
    return version


def _actor(by: Any) -> Any:
    return by if getattr(by, "pk", None) is not None else None


def _write(dictionary: Dictionary, *, base: Base, by: Any, source: str) -> DictionaryVersion:
    last = base.versions.aggregate(last=Max("number"))["last"] or 0
    version = DictionaryVersion.objects.create(
        base=base, number=last + 1, source=source[:300], created_by=_actor(by)
    )
    code_lists = {
        c.name: c
        for c in CodeList.objects.bulk_create(
            [
                CodeList(
                    version=version,
                    name=spec.name,
                    title=spec.title,
                    description=spec.description,
                    source=spec.source,
                    code_field=spec.code_field,
                    label_field=spec.label_field,
                    columns=spec.columns,
                    has_values=spec.has_values,
                    code_count=len(spec.codes),
                )
                for spec in dictionary.code_lists
            ],
            batch_size=BATCH,
        )
    }
    for spec in dictionary.code_lists:
        list_id = code_lists[spec.name].pk
        insert_rows(
            Code._meta.db_table,
            ("code_list_id", "code", "label", "search_text", "position"),
            [
                (list_id, code, label, fold(f"{code} {label}"), i)
                for i, (code, label) in enumerate(spec.codes)
            ],
        )
    tables = {
        t.name: t
        for t in Table.objects.bulk_create(
            [
                Table(
                    version=version,
                    name=spec.name,
                    title=spec.title,
                    description=spec.description,
                    product=spec.product,
                    primary_key=spec.primary_key,
                    history=spec.history,
                    extra=spec.extra,
                    position=i,
                )
                for i, spec in enumerate(dictionary.tables)
            ],
            batch_size=BATCH,
        )
    }
    Relation.objects.bulk_create(
        [
            Relation(
                table=tables[spec.name],
                fields=local,
                target_name=target,
                target=tables.get(target),
                target_fields=remote,
                description=note,
            )
            for spec in dictionary.tables
            for local, target, remote, note in spec.foreign_keys
        ],
        batch_size=BATCH,
    )
    Variable.objects.bulk_create(
        [
            Variable(
                table=tables[spec.name],
                name=f.name,
                label=f.label,
                description=f.description,
                type=f.type,
                format=f.format,
                length=f.length,
                constraints=f.constraints,
                code_list=code_lists.get(f.code_list),
                code_list_name=f.code_list,
                date_created=f.date_created,
                date_deleted=f.date_deleted,
                management_rule=f.management_rule,
                observation=f.observation,
                is_direct_identifier=f.direct,
                is_potential_identifier=f.potential,
                is_pseudonym=f.pseudonym,
                extra=f.extra,
                position=i,
            )
            for spec in dictionary.tables
            for i, f in enumerate(spec.fields)
        ],
        batch_size=BATCH,
    )
    return version
