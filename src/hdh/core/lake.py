"""Where data lives on disk. Every path into the lake is built here."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

_SAFE_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def root() -> Path:
    return Path(settings.HDH_LAKE)


def safe_segment(value: str) -> str:
    """Refuse any path segment that could escape its folder."""
    if not _SAFE_SEGMENT.match(value) or ".." in value:
        raise ValueError(f"unsafe path segment: {value!r}")
    return value


def path(*segments: str) -> Path:
    """A path under the lake root, built only from safe segments."""
    return root().joinpath(*(safe_segment(s) for s in segments))
