"""Search latency on the current catalog, through the whole HTTP stack and in process."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

from django.conf import settings
from django.test import Client

from hdh.catalog.search.query import search

ACCEPTANCE_QUERIES = (
    "NIR",
    "date de naissance",
    "diagnostic principal",
    "urgences",
    "ER_PRS_F",
    "diagnostique principal",
)


@dataclass(frozen=True)
class Latency:
    label: str
    samples: int
    p50_ms: float
    p95_ms: float

    def line(self) -> str:
        return f"{self.label}: n={self.samples} p50={self.p50_ms:.1f} ms p95={self.p95_ms:.1f} ms"


def _summary(label: str, samples: list[float]) -> Latency:
    ordered = sorted(samples)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return Latency(label, len(ordered), statistics.median(ordered) * 1000, p95 * 1000)


def measure(*, repeat: int = 20, queries: tuple[str, ...] = ACCEPTANCE_QUERIES) -> list[Latency]:
    """Time each query ``repeat`` times: the search page, the API, and ``search()`` alone."""
    host = next((h for h in settings.ALLOWED_HOSTS if h and "*" not in h), "localhost")
    client = Client(HTTP_HOST=host.lstrip("."))
    timings: dict[str, list[float]] = {"page": [], "api": [], "search()": []}
    for query in queries:  # warm caches once
        search(query)
    for _ in range(repeat):
        for query in queries:
            started = time.perf_counter()
            client.get("/catalogue/recherche/", {"q": query})
            timings["page"].append(time.perf_counter() - started)
            started = time.perf_counter()
            client.get("/api/catalog/search", {"q": query})
            timings["api"].append(time.perf_counter() - started)
            started = time.perf_counter()
            search(query)
            timings["search()"].append(time.perf_counter() - started)
    return [_summary(label, samples) for label, samples in timings.items()]
