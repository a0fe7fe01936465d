"""The perimeter: bases, tables and variables from the catalog, each justified."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from hdh.access import policies
from hdh.access.models import Application, PerimeterItem
from hdh.access.services._common import require_on, require_text
from hdh.accounts.models import User
from hdh.audit import services as audit
from hdh.catalog.models import Base, Table, Variable
from hdh.core.errors import ValidationFailed
from hdh.core.governance import service_writes
from hdh.core.permissions import Permission

MAX_ITEMS = 2000


def add_items(
    *,
    by: User,
    application: Application,
    base: Base,
    table: Table | None = None,
    variables: list[Variable] | None = None,
    justification: str,
) -> list[PerimeterItem]:
    """Add a base, a whole table, or some of its variables, with one justification."""
    require_on(by, Permission.APPLICATION_EDIT, application)
    justification = require_text(justification, _("Justification"), 2000)
    variables = variables or []
    if table is not None and table.version_id != base.current_version_id:
        raise ValidationFailed(_("Cette table n'appartient pas à la base choisie."), ["table"])
    if variables and table is None:
        raise ValidationFailed(_("Choisissez d'abord une table."), ["table"])
    if any(v.table_id != table.pk for v in variables if table is not None):
        raise ValidationFailed(_("Ces variables n'appartiennent pas à la table."), ["variables"])
    wanted: list[tuple[Table | None, Variable | None]] = [(table, v) for v in variables]
    if not wanted:
        wanted = [(table, None)]
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        policies.ensure_editable(locked)
        existing = PerimeterItem.objects.filter(application=locked)
        if existing.count() + len(wanted) > MAX_ITEMS:
            raise ValidationFailed(_("Le périmètre est trop grand."), ["perimeter"])
        created = []
        with service_writes():
            for chosen_table, variable in wanted:
                duplicate = existing.filter(
                    base=base,
                    table=chosen_table,
                    variable=variable,
                ).exists()
                if duplicate:
                    continue
                created.append(
                    PerimeterItem.objects.create(
                        application=locked,
                        base=base,
                        table=chosen_table,
                        variable=variable,
                        justification=justification,
                    )
                )
        audit.record(
            action="access.perimeter.added",
            by=by,
            target=locked,
            details={
                "base": base.slug,
                "table": table.name if table else None,
                "variables": [v.name for v in variables][:200],
                "added": len(created),
            },
        )
    return created


def remove_item(*, by: User, application: Application, item_id: int) -> None:
    require_on(by, Permission.APPLICATION_EDIT, application)
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        policies.ensure_editable(locked)
        item = PerimeterItem.objects.filter(application=locked, pk=item_id).first()
        if item is None:
            raise ValidationFailed(_("Cet élément n'est pas dans le périmètre."), ["item"])
        with service_writes():
            item.delete()
        audit.record(
            action="access.perimeter.removed",
            by=by,
            target=locked,
            details={"item_id": item_id},
        )
