"""Synthetic NIR (numéro d'inscription au répertoire) with a valid control key.

A NIR is 13 characters — sex, year and month of birth, département and
commune of birth, order number — followed by a two-digit key equal to
97 - (n mod 97), where Corsica's "2A" and "2B" count as 19 and 18 (INSEE rule).
Synthetic NIRs exist only so that level-1 pseudonymisation has something real
to consume; they are written to the identity output and nowhere else.
"""

from __future__ import annotations

import numpy as np

# The rules (shape, Corsica, control key) live with the pseudonymisation service.
from hdh.keys.nir import control_key, is_valid

__all__ = ["build", "control_key", "is_valid"]


def build(
    *,
    sex: np.ndarray,
    birth_year: np.ndarray,
    birth_month: np.ndarray,
    place: np.ndarray,
    order: np.ndarray,
) -> np.ndarray:
    """15-character NIRs, vectorised.

    ``place`` holds 5-character département + commune codes ("75056", "2A004",
    "97105", or "99" + country for people born abroad); ``order`` 1–999.
    """
    place = place.astype("U5")
    department = np.char.replace(np.char.replace(_slice(place, 0, 2), "2A", "19"), "2B", "18")
    numeric = (
        sex.astype(np.int64) * 10**12
        + (birth_year.astype(np.int64) % 100) * 10**10
        + birth_month.astype(np.int64) * 10**8
        + department.astype(np.int64) * 10**6
        + _slice(place, 2, 5).astype(np.int64) * 10**3
        + order.astype(np.int64)
    )
    key = 97 - numeric % 97
    body = np.char.add(
        np.char.add(
            np.char.add(sex.astype("U1"), np.char.zfill((birth_year % 100).astype("U2"), 2)),
            np.char.zfill(birth_month.astype("U2"), 2),
        ),
        np.char.add(place, np.char.zfill(order.astype("U3"), 3)),
    )
    return np.char.add(body, np.char.zfill(key.astype("U2"), 2))


def _slice(values: np.ndarray, start: int, stop: int) -> np.ndarray:
    as_bytes = values.astype("S5").view("S1").reshape(len(values), 5)
    return (
        as_bytes[:, start:stop].copy().view(f"S{stop - start}").ravel().astype(f"U{stop - start}")
    )
