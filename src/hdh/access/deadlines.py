"""The clock of each stage: legal delays, working days, pauses.

Defaults come from the French procedure (CSP L.1461-3 and R.1461-x, Loi
informatique et libertés art. 66): the guichet forwards a complete file within
7 working days, the committee answers within 1 month, the regulator within
2 months renewable once. Contract and preparation delays are indicative.
Operators override them with the ``HDH_ACCESS_DEADLINES`` setting, e.g.
``{"opinion": "30d", "decision": "2m", "admissibility": "7wd"}`` or, from the
environment, ``HDH_ACCESS_DEADLINES=opinion=30,decision=2m`` (a bare number is days).
The overrides are checked when the guichet starts (:func:`check_configuration`).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings

from hdh.access.states import LegalRoute, Stage

_SPEC = re.compile(r"^\s*(\d{1,3})\s*(wd|d|m)?\s*$")


@dataclass(frozen=True)
class Delay:
    amount: int
    unit: str  # "wd" working days, "d" calendar days, "m" calendar months

    @classmethod
    def parse(cls, spec: str) -> Delay:
        match = _SPEC.match(spec)
        if match is None:
            raise ValueError(f"a delay is like '7wd', '30d' or '2m', got {spec!r}")
        amount = int(match.group(1))
        if amount < 1:
            raise ValueError(f"a delay is at least one day, got {spec!r}")
        return cls(amount, match.group(2) or "d")

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"

    def after(self, start: dt.datetime) -> dt.datetime:
        if self.unit == "d":
            return start + dt.timedelta(days=self.amount)
        if self.unit == "m":
            return add_months(start, self.amount)
        return add_working_days(start, self.amount)


DEFAULTS: dict[str, Delay] = {
    Stage.ADMISSIBILITY: Delay(7, "wd"),
    Stage.OPINION: Delay(1, "m"),
    Stage.DECISION: Delay(2, "m"),
    Stage.CONTRACT: Delay(1, "m"),
    Stage.PREPARATION: Delay(2, "m"),
    # Simplified sample access: the platform decides within 15 days.
    "fast_track": Delay(15, "d"),
    # The regulator may extend its delay once, by as much again.
    "decision_extension": Delay(2, "m"),
}


def check_configuration(configured: object) -> None:
    """Raise ``ImproperlyConfigured`` naming the bad entry of ``HDH_ACCESS_DEADLINES``."""
    from django.core.exceptions import ImproperlyConfigured

    if not configured:
        return
    if not isinstance(configured, dict):
        raise ImproperlyConfigured("HDH_ACCESS_DEADLINES must be a mapping of stage to delay")
    for key, spec in configured.items():
        if key not in DEFAULTS:
            known = ", ".join(sorted(str(k) for k in DEFAULTS))
            raise ImproperlyConfigured(
                f"HDH_ACCESS_DEADLINES: unknown stage {str(key)[:40]!r} (known: {known})"
            )
        try:
            Delay.parse(str(spec))
        except ValueError as exc:
            raise ImproperlyConfigured(f"HDH_ACCESS_DEADLINES[{key!r}]: {exc}") from exc


def delay_for(key: str) -> Delay:
    configured = getattr(settings, "HDH_ACCESS_DEADLINES", None) or {}
    if key in configured:
        return Delay.parse(str(configured[key]))
    return DEFAULTS[key]


def stage_delay(stage: Stage | str, route: LegalRoute | str) -> Delay:
    if stage == Stage.ADMISSIBILITY and route == LegalRoute.FAST_TRACK:
        return delay_for("fast_track")
    return delay_for(str(stage))


def due_at(stage: Stage | str, route: LegalRoute | str, start: dt.datetime) -> dt.datetime:
    return stage_delay(stage, route).after(start)


def add_months(start: dt.datetime, months: int) -> dt.datetime:
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)


def _easter(year: int) -> dt.date:
    # Anonymous Gregorian algorithm (Meeus/Jones/Butcher).
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month = (h + ell - 7 * m + 114) // 31
    day = (h + ell - 7 * m + 114) % 31 + 1
    return dt.date(year, month, day)


@lru_cache(maxsize=64)
def public_holidays(year: int) -> frozenset[dt.date]:
    """French public holidays (Code du travail L.3133-1), metropolitan list."""
    easter = _easter(year)
    fixed = [(1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)]
    moving = [easter + dt.timedelta(days=n) for n in (1, 39, 50)]
    return frozenset([dt.date(year, m, d) for m, d in fixed] + moving)


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in public_holidays(day.year)


def add_working_days(start: dt.datetime, days: int) -> dt.datetime:
    current = start
    remaining = days
    while remaining > 0:
        current += dt.timedelta(days=1)
        if is_working_day(current.date()):
            remaining -= 1
    return current
