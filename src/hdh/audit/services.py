"""Placeholder replaced below in this session."""
from __future__ import annotations

from typing import Any


def record(*, action: str, by: Any = None, target: Any = None, target_type: str = "",
           target_id: str = "", outcome: str = "success", details: dict[str, Any] | None = None,
           request_id: str | None = None) -> None:
    return None
