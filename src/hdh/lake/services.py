"""Depositing a table's data in the lake: the one write path (ARCHITECTURE rule 1).

``ingest`` reads the files streamed through the engine, validates them against
the catalog, and either records a rejected deposit with its report, or
publishes a new immutable version (Parquet + manifest), its profiles, and the
audit event — the version row and the event in one transaction. Nothing is
visible unless the whole deposit validated; a failure leaves no partial
version (ARCHITECTURE rule 8).
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Max

from hdh.accounts.authorization import require_permission
from hdh.audit import services as audit
from hdh.catalog.models import Base, Table
from hdh.core import ids, lake
from hdh.core.errors import ValidationFailed
from hdh.core.governance import service_writes
from hdh.core.permissions import Permission
from hdh.engines import files as durable
from hdh.engines import get_engine
from hdh.engines.types import Column
from hdh.lake import profiles, storage
from hdh.lake.models import DatasetVersion, Deposit, DepositStatus, VariableProfile
from hdh.lake.report import Report
from hdh.lake.sources import recognise
from hdh.lake.validation import check
from hdh.synth.catalogued import code_values
from hdh.synth.schema import from_catalog

FileArgument = Path | tuple[str, Path]


def current_version(base: Base, table: str) -> DatasetVersion | None:
    return DatasetVersion.objects.filter(base=base, table_name=table).order_by("-number").first()


def _actor(by: Any) -> Any:
    return by if getattr(by, "pk", None) is not None else None


def _named(items: Sequence[FileArgument]) -> list[tuple[str, Path]]:
    named = []
    for item in items:
        name, path = item if isinstance(item, tuple) else (item.name, item)
        named.append((Path(name).name[:200], Path(path)))
    return named


def ingest(*, base: Base, table: str, files: Sequence[FileArgument], by: Any) -> Deposit:
    """Validate ``files`` as ``table`` of ``base`` and, if all is well, publish a version.

    Returns the deposit, accepted or rejected; raises :class:`ValidationFailed`
    when the table is not catalogued or no file is given, and
    :class:`~hdh.core.errors.NotAllowed` when ``by`` may not deposit for ``base``.
    """
    require_permission(by, Permission.LAKE_DEPOSIT, base)
    named = _named(files)
    if not named:
        raise ValidationFailed("no file to deposit")
    catalog_table = Table.objects.filter(version_id=base.current_version_id, name=table).first()
    if catalog_table is None:
        raise ValidationFailed(
            f"table {table!r} is not in the catalog of {base.slug}", [f"table: {table[:128]}"]
        )
    shape = from_catalog(catalog_table)
    sources = [
        {"name": name, "bytes": path.stat().st_size, "sha256": durable.sha256_of(path)}
        for name, path in named
    ]
    latest = current_version(base, table)
    previous = Deposit.objects.filter(version=latest).first() if latest else None
    if previous is not None and _checksums(previous.files) == _checksums(sources):
        # A retry of the deposit that made the current version: nothing new to publish.
        return previous
    report = Report(table=table)
    staging = storage.staging_path(base.slug, table)
    work = staging.with_name(staging.name + "-work")
    try:
        with get_engine("duckdb", workdir=work) as engine:
            deposited = [
                recognise(path, name=name, workdir=engine.workdir, report=report)
                for name, path in named
            ]
            for item, meta in zip(deposited, sources, strict=True):
                if item is not None:
                    meta.update(
                        format=item.source.format,
                        encoding=item.encoding,
                        delimiter=item.delimiter,
                    )
            report.files = sources
            if all(deposited):
                parents = {fk.target: _parent_files(base, fk.target) for fk in shape.foreign_keys}
                checked = check(
                    engine,
                    shape=shape,
                    deposited=[d for d in deposited if d is not None],
                    codes=code_values(base, [shape]),
                    parents=parents,
                    report=report,
                )
                if checked is not None and report.ok:
                    manifest, digest = storage.write(
                        engine,
                        relation=checked.relation,
                        shape=shape,
                        folder=staging,
                        base_slug=base.slug,
                        sources=sources,
                    )
                    stats = _profiles(engine, staging, catalog_table)
                    return _publish(
                        base=base,
                        table=catalog_table,
                        staging=staging,
                        manifest=manifest,
                        digest=digest,
                        stats=stats,
                        report=report,
                        by=by,
                    )
        return _reject(base=base, table=table, report=report, by=by)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


def _checksums(described: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(str(f.get("name")), str(f.get("sha256"))) for f in described]


def _parent_files(base: Base, table: str) -> list[Path]:
    version = current_version(base, table)
    if version is None:
        return []
    return storage.data_files(lake.root() / version.path)


def _profiles(engine: Any, folder: Path, table: Table) -> dict[str, dict[str, Any]]:
    shape = from_catalog(table)
    identifiers = {
        v.name
        for v in table.variables.all()
        if v.is_direct_identifier or v.is_potential_identifier or v.is_pseudonym
    }
    k = profiles.threshold()
    relation = engine.dialect.read_parquet(storage.data_files(folder))
    # Coded variables (a code list or an enumeration) are described by their top
    # codes rather than by a histogram of code numbers.
    columns = [
        Column(f.name, "string") if f.code_list or f.constraints.get("enum") else f.column
        for f in shape.fields
    ]
    raw = engine.profile(relation, columns, min_frequency=k)
    return {p.name: profiles.publishable(p, identifier=p.name in identifiers, k=k) for p in raw}


def _publish(
    *,
    base: Base,
    table: Table,
    staging: Path,
    manifest: dict[str, Any],
    digest: str,
    stats: dict[str, dict[str, Any]],
    report: Report,
    by: Any,
) -> Deposit:
    published: Path | None = None
    try:
        with transaction.atomic(), service_writes():
            Base.objects.select_for_update().filter(pk=base.pk).first()
            last = DatasetVersion.objects.filter(base=base, table_name=table.name).aggregate(
                last=Max("number")
            )["last"]
            number = (last or 0) + 1
            target = storage.version_path(base.slug, table.name, number)
            durable.publish(staging, target)
            published = target
            version = DatasetVersion.objects.create(
                base=base,
                table_name=table.name,
                catalog_table=table,
                number=number,
                path=storage.relative(target),
                row_count=manifest["rows"],
                byte_count=sum(f["bytes"] for f in manifest["files"]),
                manifest_sha256=digest,
                created_by=_actor(by),
            )
            VariableProfile.objects.bulk_create(
                [
                    VariableProfile(version=version, variable_name=n, stats=s)
                    for n, s in stats.items()
                ]
            )
            deposit = Deposit.objects.create(
                reference=ids.reference("DEP"),
                base=base,
                table_name=table.name,
                status=DepositStatus.ACCEPTED,
                files=manifest["sources"],
                report=report.as_dict(),
                row_count=manifest["rows"],
                version=version,
                created_by=_actor(by),
            )
            audit.record(
                action="lake.version.created",
                by=by,
                target=version,
                details={
                    "base": base.slug,
                    "table": table.name,
                    "version": number,
                    "rows": manifest["rows"],
                    "files": len(manifest["sources"]),
                    # The manifest checksum stays on the version row: a hex digest can
                    # look like a NIR to the log's guard.
                    "deposit": deposit.reference,
                },
            )
    except BaseException:
        if published is not None:
            durable.remove(published)
        raise
    return deposit


def _reject(*, base: Base, table: str, report: Report, by: Any) -> Deposit:
    with transaction.atomic(), service_writes():
        deposit = Deposit.objects.create(
            reference=ids.reference("DEP"),
            base=base,
            table_name=table,
            status=DepositStatus.REJECTED,
            files=report.files,
            report=report.as_dict(),
            row_count=report.rows,
            created_by=_actor(by),
        )
        audit.record(
            action="lake.deposit.rejected",
            by=by,
            target=deposit,
            details={
                "base": base.slug,
                "table": table,
                "files": len(report.files),
                "rows": report.rows,
                "violations": report.counts(),
            },
        )
    return deposit
