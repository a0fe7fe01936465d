"""Demo wiring: the data engineer's part of a demo project, through preparation's services.

The workspace demo needs a project whose data is prepared, but the workspace
app never imports preparation's engine side (it reaches the lake: ARCHITECTURE,
"a workspace sees only its project's prepared datasets"). The demo command, in
the wiring layer, lends it this step (``HOOKS``).
"""

from __future__ import annotations

from typing import Any

from hdh.access.models import Permit
from hdh.preparation import services


def prepare(*, permit: Permit, by: Any, override: str) -> None:
    """Plan, approve and run (DuckDB, synchronously) the permit's extraction; open its workspace."""
    plan = services.create_plan(permit=permit, by=by)
    services.update_plan(plan=plan, by=by, potential_override=override)
    services.approve_plan(plan=plan, by=by)
    run = services.start_run(plan=plan, by=by, engine="duckdb")
    done = services.execute_run(run.pk)
    if done is None or done.status != "succeeded":
        raise RuntimeError(f"demo preparation failed: {getattr(done, 'error', '')}")
    services.open_workspace(plan=plan, by=by)


# Keyword arguments the demo command passes to an app's ``demo.load()``.
HOOKS: dict[str, dict[str, Any]] = {"hdh.workspace": {"prepare": prepare}}
