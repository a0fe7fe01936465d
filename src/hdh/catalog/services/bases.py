"""Creating and editing a base's catalog entry."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction

from hdh.audit import services as audit
from hdh.catalog.models import Base
from hdh.catalog.search.index import refresh_base_entry, reindex_base
from hdh.core import clock
from hdh.core.errors import ValidationFailed

# What a producer may change; the slug, the dictionary and the bookkeeping are not.
EDITABLE_FIELDS = (
    "title",
    "acronym",
    "kind",
    "doi",
    "hdh_reference",
    "homepage",
    "description",
    "objective",
    "medical_domain",
    "health_category",
    "keywords",
    "coding_systems",
    "funding",
    "data_holder",
    "scientific_contact_name",
    "scientific_contact_email",
    "contact_name",
    "contact_email",
    "hdab_name",
    "hdab_email",
    "access_rights",
    "legal_basis",
    "retention_period",
    "temporal_start",
    "temporal_end",
    "spatial_coverage",
    "population_coverage",
    "min_typical_age",
    "max_typical_age",
    "number_of_records",
    "number_of_unique_individuals",
    "update_frequency",
    "citation",
    "acknowledgement",
)


def _problems(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [f"{name}: {msg}" for name, errs in error.message_dict.items() for msg in errs]
    return list(error.messages)


def _validate(base: Base, *, exclude: list[str] | None = None) -> None:
    try:
        base.full_clean(exclude=exclude)
    except ValidationError as exc:
        problems = _problems(exc)
        raise ValidationFailed(f"invalid base: {problems[0]}", problems) from exc
    # Django enforces max_length on text columns only in forms; the service does it.
    for column in Base._meta.fields:
        value = getattr(base, column.attname)
        if (
            isinstance(column, models.TextField)
            and column.max_length
            and isinstance(value, str)
            and len(value) > column.max_length
        ):
            problem = f"{column.name}: longer than {column.max_length} characters"
            raise ValidationFailed(f"invalid base: {problem}", [problem])
    for name in ("keywords", "coding_systems"):
        value = getattr(base, name)
        if (
            not isinstance(value, list)
            or not all(isinstance(v, str) and 0 < len(v) <= 100 for v in value)
            or len(value) > 50
        ):
            raise ValidationFailed(
                f"invalid base: {name}: a list of up to 50 short texts",
                [f"{name}: a list of up to 50 texts of 1 to 100 characters"],
            )


def _actor(by: Any) -> Any:
    return by if getattr(by, "pk", None) is not None else None


def create_base(*, slug: str, by: Any, **values: Any) -> Base:
    unknown = set(values) - set(EDITABLE_FIELDS) - {"holder_organisation"}
    if unknown:
        raise ValidationFailed(f"unknown field(s): {', '.join(sorted(unknown))}")
    base = Base(slug=slug, created_by=_actor(by), **values)
    _validate(base, exclude=["current_version", "created_by"])
    with transaction.atomic():
        base.save()
        reindex_base(base)
        audit.record(action="catalog.base.created", by=by, target=base, details={"slug": base.slug})
    return base


def update_base(*, base: Base, by: Any, **values: Any) -> Base:
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(f"unknown field(s): {', '.join(sorted(unknown))}")
    with transaction.atomic():
        base = Base.objects.select_for_update().get(pk=base.pk)
        changed = sorted(name for name, value in values.items() if getattr(base, name) != value)
        for name, value in values.items():
            setattr(base, name, value)
        _validate(base, exclude=["current_version", "created_by", "holder_organisation"])
        if not changed:
            return base
        base.updated_at = clock.now()
        base.save()
        refresh_base_entry(base)
        audit.record(action="catalog.base.updated", by=by, target=base, details={"fields": changed})
    return base
