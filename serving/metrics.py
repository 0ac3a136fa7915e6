"""Prometheus metrics of the scoring service, in a registry of their own (one per app)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from serving.log_reader import FUTURE

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
SCORE_BUCKETS = tuple(i / 10 for i in range(1, 11))
AGE_BUCKETS = (60, 300, 900, 1800, 3600, 7200, 14400, 43200, 86400, 172800, 604800, 2592000)


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
        self.future = Counter(
            "ontime_feature_future",
            "Served rows whose feature value was dated after the prediction time (not used).",
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
        self.age = Histogram(
            "ontime_feature_age_seconds",
            "Age of the served feature values at their prediction time, by feature view.",
            ["view"],
            buckets=AGE_BUCKETS,
            registry=self.registry,
        )
        self.sla_breaches = Counter(
            "ontime_freshness_sla_breaches",
            "Served rows whose feature view was older than its freshness SLA.",
            ["view"],
            registry=self.registry,
        )
        self.store_up = Gauge(
            "ontime_online_store_up", "1 while the online store answers.", registry=self.registry
        )
        self.log_backlog_rows = Gauge(
            "ontime_log_backlog_rows",
            "Logged rows in the journal, not yet in the parquet log tables.",
            registry=self.registry,
        )
        self.log_oldest_unwritten = Gauge(
            "ontime_log_oldest_unwritten_seconds",
            "Age of the oldest logged row not yet in the parquet log tables (0 when none).",
            registry=self.registry,
        )
        self.log_dead_lettered = Gauge(
            "ontime_log_dead_lettered_rows",
            "Log rows quarantined in the dead-letter file because they could not be written.",
            registry=self.registry,
        )
        self.log_writer_up = Gauge(
            "ontime_log_writer_up", "1 while the log writer process runs.", registry=self.registry
        )
        self.log_writer_restarts = Gauge(
            "ontime_log_writer_restarts",
            "Times the log writer process died and was restarted since start-up.",
            registry=self.registry,
        )

    def observe_statuses(self, statuses: dict[str, Iterable[str]]) -> None:
        for feature, values in statuses.items():
            values = list(values)
            missing = sum(v in ("missing", "defaulted") for v in values)
            stale = sum(v == "stale" for v in values)
            future = sum(v == FUTURE for v in values)
            if missing:
                self.missing.labels(feature).inc(missing)
            if stale:
                self.stale.labels(feature).inc(stale)
            if future:
                self.future.labels(feature).inc(future)

    def observe_ages(self, ages: dict[str, np.ndarray], slas: dict[str, float]) -> None:
        """Each view's ages (seconds; NaN where absent) and how many broke its SLA."""
        for view, values in ages.items():
            values = values[~np.isnan(values)]
            histogram = self.age.labels(view)
            for age in values:
                histogram.observe(float(age))
            if view in slas:
                breaches = int((values > slas[view]).sum())
                if breaches:
                    self.sla_breaches.labels(view).inc(breaches)

    def observe_scores(self, role: str, version: str, probabilities: Iterable[float]) -> None:
        histogram = self.scores.labels(role, version)
        for p in probabilities:
            histogram.observe(float(p))

    def observe_log(self, health) -> None:
        """Copy the prediction log's health (a ``LogHealth``) into the gauges."""
        self.log_backlog_rows.set(health.backlog_rows)
        self.log_oldest_unwritten.set(health.oldest_unwritten_s)
        self.log_dead_lettered.set(health.dead_lettered)
        self.log_writer_up.set(1.0 if health.writer_up else 0.0)
        self.log_writer_restarts.set(health.writer_restarts)

    def render(self) -> bytes:
        return generate_latest(self.registry)
