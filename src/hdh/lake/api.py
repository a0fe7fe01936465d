"""The lake's REST API: metadata, reports and profiles to read, deposits to write.

The same services and permission checks as the lake pages. No route ever
returns row data: versions are described by counts and checksums, reports name
files, rows and rules but never values, profiles are the published ones (small
counts already removed).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from django.http import Http404, HttpRequest
from ninja import Router, Schema, Status, UploadedFile
from ninja.params import functions

from hdh.accounts.authorization import has_permission
from hdh.catalog.models import Base, Table
from hdh.core import lake
from hdh.core.api import SIGNED_IN, ErrorOut, links, refusals
from hdh.core.errors import NotAllowed
from hdh.core.permissions import Permission
from hdh.lake import policies, queries, storage, uploads
from hdh.lake.models import DatasetVersion, Deposit, DepositStatus
from hdh.lake.services import ingest

router = Router(tags=["lake"])

# A deposit is one table, possibly split in several files; the total is bounded.
MAX_VERSION = 2**31


class VersionOut(Schema):
    table: str
    number: int
    row_count: int
    byte_count: int
    manifest_sha256: str
    created_at: dt.datetime


class ManifestOut(Schema):
    table: str
    number: int
    manifest_sha256: str
    manifest: dict[str, Any]


class DepositOut(Schema):
    reference: str
    base: str
    table: str
    status: str
    row_count: int
    version: int | None
    created_at: dt.datetime
    report: dict[str, Any]


def _segment(value: str, limit: int) -> str:
    """A path segment as looked up: too long or with a NUL byte, it names nothing."""
    # PostgreSQL refuses NUL bytes in text; such a segment is simply unknown.
    if len(value) > limit or "\x00" in value:
        raise Http404("no such object")
    return value


def _base(slug: str) -> Base:
    base = Base.objects.filter(slug=_segment(slug, 80)).first()
    if base is None:
        raise Http404("no such base")
    return base


def _may_read_versions(request: HttpRequest, base: Base) -> None:
    # Either permission will do; only the last check audits, so one refusal is one event.
    if has_permission(request.user, Permission.LAKE_VIEW_PROFILES, base, audit=False):
        return
    if not has_permission(request.user, Permission.LAKE_DEPOSIT, base):
        raise NotAllowed("reading the lake's versions needs lake.view_profiles or lake.deposit")


def _version_out(version: DatasetVersion) -> dict[str, Any]:
    return {
        "table": version.table_name,
        "number": version.number,
        "row_count": version.row_count,
        "byte_count": version.byte_count,
        "manifest_sha256": version.manifest_sha256,
        "created_at": version.created_at,
    }


def _deposit_out(deposit: Deposit) -> dict[str, Any]:
    return {
        "reference": deposit.reference,
        "base": deposit.base.slug,
        "table": deposit.table_name,
        "status": deposit.status,
        "row_count": deposit.row_count,
        "version": deposit.version.number if deposit.version else None,
        "created_at": deposit.created_at,
        "report": deposit.report,
    }


@router.get(
    "/bases/{slug}/versions",
    response={200: list[VersionOut], **refusals(401, 403, 404)},
    auth=SIGNED_IN,
)
def list_versions(request: HttpRequest, slug: str) -> Any:
    """The base's dataset versions, newest first per table: metadata only."""
    base = _base(slug)
    _may_read_versions(request, base)
    versions = DatasetVersion.objects.filter(base=base).order_by("table_name", "-number")
    return [_version_out(v) for v in versions]


@router.get(
    "/bases/{slug}/tables/{table}/versions/{number}/manifest",
    response={200: ManifestOut, **refusals(401, 403, 404, 422)},
    auth=SIGNED_IN,
)
def get_manifest(request: HttpRequest, slug: str, table: str, number: int) -> Any:
    """A version's manifest: files, sizes, checksums, schema and deposited sources."""
    base = _base(slug)
    _may_read_versions(request, base)
    version = (
        DatasetVersion.objects.filter(
            base=base, table_name=_segment(table, 128), number=number
        ).first()
        if 0 < number <= MAX_VERSION
        else None
    )
    if version is None:
        raise Http404("no such version")
    folder = lake.root() / version.path
    manifest = json.loads((folder / storage.MANIFEST).read_text(encoding="utf-8"))
    return {
        "table": version.table_name,
        "number": version.number,
        "manifest_sha256": version.manifest_sha256,
        "manifest": manifest,
    }


@router.get(
    "/deposits/{reference}", response={200: DepositOut, **refusals(401, 403, 404)}, auth=SIGNED_IN
)
def get_deposit(request: HttpRequest, reference: str) -> Any:
    """A deposit's validation report: for its depositor and the holder's producers."""
    deposit = (
        Deposit.objects.select_related("base", "version")
        .filter(reference=_segment(reference, 20))
        .first()
    )
    if deposit is None:
        raise Http404("no such deposit")
    # The same rule as the report page.
    if not policies.may_read_report(request.user, deposit):
        raise NotAllowed("reading this report is for its depositor and the base's holder")
    return _deposit_out(deposit)


@router.get(
    "/profiles/{slug}/{table}/{variable}", response={200: dict[str, Any], **refusals(403, 404)}
)
def get_profile(request: HttpRequest, slug: str, table: str, variable: str) -> Any:
    """The published profile of a variable in its table's current version."""
    # The same rule as the profile page and the catalog's variable page: public.
    if not has_permission(request.user, Permission.CATALOG_VIEW):
        raise NotAllowed("profiles")
    stats = queries.latest_profile(
        base_slug=_segment(slug, 80),
        table=_segment(table, 128),
        variable=_segment(variable, 128),
    )
    if stats is None:
        raise Http404("no published profile")
    return stats


@router.post(
    "/bases/{slug}/tables/{table}/deposits",
    # A rejected deposit is a 422 with its report; a request the route cannot read, a 422
    # naming what is wrong with it.
    response={201: DepositOut, **refusals(401, 403, 404), 422: DepositOut | ErrorOut},
    auth=SIGNED_IN,
    openapi_extra=links(
        (201, 422), "reference", "$response.body#/reference", "hdh_lake_api_get_deposit"
    ),
)
def deposit(
    request: HttpRequest,
    slug: str,
    table: str,
    # At least one file: an empty list is no multipart field at all.
    files: Annotated[list[UploadedFile], functions.File(min_length=1)],
) -> Any:
    """Deposit a table's files: 201 with the report when accepted, 422 when rejected."""
    base = _base(slug)
    if not has_permission(request.user, Permission.LAKE_DEPOSIT, obj=base):
        raise NotAllowed("depositing for this base needs lake.deposit on it")
    name = _segment(table.strip(), 128)
    if not Table.objects.filter(version_id=base.current_version_id, name=name).exists():
        raise Http404("no such table in the base's catalog")
    uploads.check(files)
    with uploads.staged(files) as paths:
        result = ingest(base=base, table=name, files=paths, by=request.user)
    status = 201 if result.status == DepositStatus.ACCEPTED else 422
    return Status(status, _deposit_out(result))
