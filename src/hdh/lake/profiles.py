"""Publishable profiles of a version's variables (ARCHITECTURE: small counts hidden).

The engine gives raw statistics; this module decides what may be shown. CASD
rule for SNDS outputs: no published cell may count fewer than
``HDH_SMALL_COUNT_THRESHOLD`` (default 11) units. A count under it is replaced
by ``None``; when exactly one cell of a distribution is hidden, the next
smallest is hidden too, so it cannot be recovered from the total. Extremes are
taken among values held by at least the threshold's number of rows, and
identifier columns show only completeness.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings

from hdh.engines import ColumnProfile


def threshold() -> int:
    return int(getattr(settings, "HDH_SMALL_COUNT_THRESHOLD", 11))


def hide(count: int, k: int) -> int | None:
    return None if 0 < count < k else count


def hide_cells(counts: Sequence[int], k: int) -> list[int | None]:
    """Primary suppression, then secondary suppression of one more cell if needed."""
    shown: list[int | None] = [hide(c, k) for c in counts]
    hidden = [i for i, c in enumerate(shown) if c is None]
    if len(hidden) == 1:
        others = [(c, i) for i, c in enumerate(shown) if c]
        if others:
            shown[min(others)[1]] = None
    return shown


def publishable(
    profile: ColumnProfile, *, identifier: bool, k: int | None = None
) -> dict[str, Any]:
    k = threshold() if k is None else k
    missing = profile.rows - profile.non_null
    stats: dict[str, Any] = {
        "type": profile.type,
        "threshold": k,
        "rows": hide(profile.rows, k),
        "non_null": hide(profile.non_null, k),
        "missing": hide(missing, k),
        # Completeness would reveal a hidden count through the published total.
        "completeness": (
            round(profile.non_null / profile.rows, 4)
            if profile.rows
            and hide(missing, k) is not None
            and hide(profile.non_null, k) is not None
            else None
        ),
        "distinct": hide(profile.distinct, k),
    }
    if identifier:
        stats["identifier"] = True
        return stats
    stats["minimum"] = profile.minimum
    stats["maximum"] = profile.maximum
    if profile.top:
        kept = [(value, count) for value, count in profile.top if count >= k]
        stats["top"] = [{"value": value, "count": count} for value, count in kept]
    if profile.histogram:
        cells = hide_cells([c for _, _, c in profile.histogram], k)
        stats["histogram"] = [
            {"low": low, "high": high, "count": count}
            for (low, high, _), count in zip(profile.histogram, cells, strict=True)
        ]
    return stats
