"""Prometheus metrics of the scoring service, in a registry of their own (one per app)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
SCORE_BUCKETS = tuple(i / 10 for i in range(1, 11))


class ServingMetrics:
    """Latency, errors by kind, missing/stale features by name, and the score distribution."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "ontime_request_latency_seconds",
            "Whole request latency by endpoint.",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "ontime_errors", "Failed requests or rows by kind.", ["kind"], registry=self.registry
        )
        self.missing = Counter(
            "ontime_feature_missing",
            "Served rows whose feature was missing (or defaulted).",
            ["feature"],
            registry=self.registry,
        )
        self.stale = Counter(
            "ontime_feature_stale",
            "Served rows whose feature was older than allowed.",
            ["feature"],
            registry=self.registry,
        )
        self.scores = Histogram(
            "ontime_score",
            "Probabilities returned or shadowed, by role.",
            ["role", "model_version"],
            buckets=SCORE_BUCKETS,
            registry=self.registry,
        )
        self.store_up = Gauge(
            "ontime_online_store_up", "1 while the online store answers.", registry=self.registry
        )

    def observe_statuses(self, statuses: dict[str, Iterable[str]]) -> None:
        for feature, values in statuses.items():
            values = list(values)
            missing = sum(v in ("missing", "defaulted") for v in values)
            stale = sum(v == "stale" for v in values)
            if missing:
                self.missing.labels(feature).inc(missing)
            if stale:
                self.stale.labels(feature).inc(stale)

    def observe_scores(self, role: str, version: str, probabilities: Iterable[float]) -> None:
        histogram = self.scores.labels(role, version)
        for p in probabilities:
            histogram.observe(float(p))

    def render(self) -> bytes:
        return generate_latest(self.registry)
