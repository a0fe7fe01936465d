"""Extension points of the catalog pages.

Other apps add to the catalog's pages without the catalog knowing them: the
lake, for instance, adds the data profile of a variable once data has been
deposited, and a link to a synthetic sample of a table; the citizens' portal
links a base to the projects that may use it. A panel is a function returning
safe HTML, or ``None`` when it has nothing to show for that page.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest
from django.utils.safestring import SafeString

from hdh.catalog.models import Base, Table, Variable

VariablePanel = Callable[[HttpRequest, Base, Table, Variable], SafeString | None]
TablePanel = Callable[[HttpRequest, Base, Table], SafeString | None]
BasePanel = Callable[[HttpRequest, Base], SafeString | None]

_variable_panels: list[VariablePanel] = []
_table_panels: list[TablePanel] = []
_base_panels: list[BasePanel] = []


def register_variable_panel(panel: VariablePanel) -> None:
    if panel not in _variable_panels:
        _variable_panels.append(panel)


def variable_panels(
    request: HttpRequest, base: Base, table: Table, variable: Variable
) -> list[SafeString]:
    rendered = (panel(request, base, table, variable) for panel in _variable_panels)
    return [html for html in rendered if html]


def register_table_panel(panel: TablePanel) -> None:
    if panel not in _table_panels:
        _table_panels.append(panel)


def table_panels(request: HttpRequest, base: Base, table: Table) -> list[SafeString]:
    rendered = (panel(request, base, table) for panel in _table_panels)
    return [html for html in rendered if html]


def register_base_panel(panel: BasePanel) -> None:
    if panel not in _base_panels:
        _base_panels.append(panel)


def base_panels(request: HttpRequest, base: Base) -> list[SafeString]:
    rendered = (panel(request, base) for panel in _base_panels)
    return [html for html in rendered if html]
