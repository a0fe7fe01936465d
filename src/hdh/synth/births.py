"""Distinct birth registrations: no two synthetic people share a NIR.

A NIR's first 13 digits are sex, year (two digits) and month of birth,
département and commune of birth and an order number. Drawing the commune and
the order at random makes two people of the same sex, born the same month in
the same département, collide now and then (2 in 624,110 people, 51,000 or so
expected at 100M). Here each (sex, two-digit year, month, département or
"abroad") group hands out its (commune, order) slots in turn: slot ``s`` of a
group becomes the position ``(s·A + B) mod C`` in the group's C = communes ×
999 positions, a permutation, so slots are spread over communes and order
numbers and never repeat. Only one counter per group is kept (about 250,000
integers), so memory stays flat however many people are generated, and the
result is deterministic for a seed because batches are assigned in order.

People born abroad have 8 countries × 999 positions per group; once a group
is full, the next person is registered as born in their département instead.
"""

from __future__ import annotations

import numpy as np

ORDERS = 999
METROPOLITAN_COMMUNES = 399  # codes 001-399
OVERSEAS_COMMUNES = 34  # codes 01-34 after a three-digit département
# A prime larger than every capacity, hence coprime with each: slot -> position is a bijection.
_STRIDE = 1_000_003


class BirthRegister:
    def __init__(self, departments: list[str], countries: list[str]) -> None:
        # "075" -> "75", "02A" -> "2A", "971" -> "971": the NIR's département part.
        self.prefixes = np.array([d[1:] if d[0] == "0" else d for d in departments], dtype="U3")
        self.department_index = {code: i for i, code in enumerate(departments)}
        self.countries = np.array(countries, dtype="U5")
        self.abroad = len(departments)
        places = len(departments) + 1
        self.capacity = np.array(
            [
                (OVERSEAS_COMMUNES if len(prefix) == 3 else METROPOLITAN_COMMUNES) * ORDERS
                for prefix in self.prefixes
            ]
            + [len(countries) * ORDERS],
            dtype=np.int64,
        )
        self.places = places
        self.counts = np.zeros(2 * 100 * 12 * places, dtype=np.int64)

    def _group(
        self, sex: np.ndarray, year: np.ndarray, month: np.ndarray, place: np.ndarray
    ) -> np.ndarray:
        return (
            ((sex.astype(np.int64) - 1) * 100 + year.astype(np.int64) % 100) * 12
            + (month.astype(np.int64) - 1)
        ) * self.places + place

    def _slots(self, group: np.ndarray) -> np.ndarray:
        """The next free slot of each person's group, in input order."""
        if len(group) == 0:
            return np.zeros(0, dtype=np.int64)
        order = np.argsort(group, kind="stable")
        ordered = group[order]
        starts = np.r_[0, np.flatnonzero(np.diff(ordered)) + 1]
        lengths = np.diff(np.r_[starts, len(ordered)])
        rank = np.arange(len(ordered)) - np.repeat(starts, lengths)
        slots = np.empty(len(group), dtype=np.int64)
        slots[order] = self.counts[ordered] + rank
        np.add.at(self.counts, group, 1)
        return slots

    def register(
        self,
        *,
        sex: np.ndarray,
        birth_year: np.ndarray,
        birth_month: np.ndarray,
        department: np.ndarray,
        born_abroad: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Place of birth (5 characters) and order number (1-999) for each person."""
        n = len(sex)
        local = np.array([self.department_index[d] for d in department.tolist()], dtype=np.int64)
        place = np.where(born_abroad, self.abroad, local)
        slot = np.zeros(n, dtype=np.int64)
        abroad = np.flatnonzero(born_abroad)
        if len(abroad):
            group = self._group(sex[abroad], birth_year[abroad], birth_month[abroad], place[abroad])
            taken = self._slots(group)
            full = taken >= self.capacity[self.abroad]
            # A full group stays full: its counter must not run past the capacity.
            np.minimum.at(self.counts, group, self.capacity[self.abroad])
            place[abroad[full]] = local[abroad[full]]
            slot[abroad[~full]] = taken[~full]
        home = np.flatnonzero(place != self.abroad)
        if len(home):
            group = self._group(sex[home], birth_year[home], birth_month[home], place[home])
            taken = self._slots(group)
            if np.any(taken >= self.capacity[place[home]]):
                raise OverflowError("a birth group has no free commune and order number left")
            slot[home] = taken
        group = self._group(sex, birth_year, birth_month, place)
        position = (slot * _STRIDE + group * 7919) % self.capacity[place]
        commune = position // ORDERS
        order = position % ORDERS + 1
        prefix = np.append(self.prefixes, "99")[place]
        overseas = np.char.str_len(prefix) == 3
        metropolitan = np.char.add(prefix, np.char.zfill((commune + 1).astype("U3"), 3))
        far = np.char.add(prefix, np.char.zfill((commune + 1).astype("U2"), 2))
        country = self.countries[np.minimum(commune, len(self.countries) - 1)]
        places = np.where(
            place == self.abroad, country, np.where(overseas, far, metropolitan)
        ).astype("U5")
        return places, order
