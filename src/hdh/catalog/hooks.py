"""Extension points of the catalog pages.

Other apps add to the catalog's pages without the catalog knowing them: the
lake, for instance, adds the data profile of a variable once data has been
deposited. A panel is a function returning safe HTML, or ``None`` when it has
nothing to show for that variable.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest
from django.utils.safestring import SafeString

from hdh.catalog.models import Base, Table, Variable

VariablePanel = Callable[[HttpRequest, Base, Table, Variable], SafeString | None]

_variable_panels: list[VariablePanel] = []


def register_variable_panel(panel: VariablePanel) -> None:
    if panel not in _variable_panels:
        _variable_panels.append(panel)


def variable_panels(
    request: HttpRequest, base: Base, table: Table, variable: Variable
) -> list[SafeString]:
    rendered = (panel(request, base, table, variable) for panel in _variable_panels)
    return [html for html in rendered if html]
