"""Linkage quality: what the model expects, and what is measured when the truth is known."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

THRESHOLDS = (0.5, 0.9, 0.99)


@dataclass(frozen=True)
class Measured:
    threshold: float
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_positives + self.false_negatives
        return self.true_positives / wanted if wanted else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "precision": round(self.precision, 5),
            "recall": round(self.recall, 5),
            "f1": round(self.f1, 5),
        }


def measure(
    links: Iterable[tuple[str, str | None, float | None]],
    truth: Mapping[str, str | None],
    thresholds: Iterable[float] = THRESHOLDS,
) -> list[Measured]:
    """Precision, recall and F1 of one-link-per-record output against ``truth``.

    ``links`` holds (record id, linked person or None, probability); ``truth``
    maps each record id to its true person, or None when the person is not on
    the other side. A wrong link counts as a false positive, and also as a
    false negative when the record had a true match.
    """
    rows = list(links)
    results = []
    for threshold in thresholds:
        tp = fp = fn = 0
        for record, person, probability in rows:
            expected = truth.get(record)
            linked = person if probability is not None and probability >= threshold else None
            if linked is not None and linked == expected:
                tp += 1
                continue
            if linked is not None:
                fp += 1
            if expected is not None:
                fn += 1
        results.append(Measured(threshold, tp, fp, fn))
    return results


def expected(
    link_probabilities: Iterable[float],
    pair_mass: float,
    thresholds: Iterable[float] = THRESHOLDS,
) -> list[dict[str, Any]]:
    """Precision and recall the model itself expects, from its match probabilities.

    ``link_probabilities`` are those of the links output (one per record);
    ``pair_mass`` is the sum of the probabilities of every scored pair, the
    model's expected number of true matches. Above a threshold, the expected
    true links are the sum of the kept probabilities: precision divides them
    by the links kept, recall by ``pair_mass``. Pairs that blocking never
    scored are invisible here, so expected recall is an upper bound.
    """
    values = list(link_probabilities)
    results = []
    for threshold in thresholds:
        kept = [p for p in values if p >= threshold]
        mass = sum(kept)
        results.append(
            {
                "threshold": threshold,
                "links": len(kept),
                "expected_true_links": round(mass, 3),
                "precision": round(mass / len(kept), 5) if kept else 1.0,
                "recall": round(min(1.0, mass / pair_mass), 5) if pair_mass else 1.0,
            }
        )
    return results
