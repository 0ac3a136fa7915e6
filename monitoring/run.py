"""``monitor(settings, start, end)``: compute every check for a window, decide, then persist.

The three questions stay separate: is input data valid now (health, parity)? does model
behaviour still look plausible (feature and prediction drift)? did outcomes stay good
enough to keep serving this release (delayed labels)? Only the last two kinds of evidence
can retrain or roll back, and drift alone never does.

Stages run one after the other: on a 2-core machine overlapping them on threads gained
nothing (measured), since pandas, Feast and Evidently all hold the GIL most of the time.
Stage timings are recorded in the summary.
"""

from __future__ import annotations

import logging
from datetime import datetime

import numpy as np

from monitoring.baseline import Baseline
from monitoring.champion import load_baseline
from monitoring.decision import decide
from monitoring.drift import feature_drift
from monitoring.health import input_health
from monitoring.parity import PREDICTION_TIME
from monitoring.prediction_drift import prediction_drift
from monitoring.report import write_reports
from monitoring.schema import monitored_features
from monitoring.steps import (
    SCORE,
    label_section,
    labels_step,
    open_repo,
    parity_step,
    require_columns,
    rows_of_model,
    service_name,
    timed,
)
from monitoring.summary import Summary
from monitoring.window import Window, champion_rows, read_logs

log = logging.getLogger(__name__)


def monitor(
    settings,
    start: datetime,
    end: datetime,
    *,
    baseline: Baseline | None = None,
    labels_as_of: datetime | None = None,
    store=None,
) -> Summary:
    """Check the served traffic of ``[start, end)`` and write ``reports/<window>/``.

    ``baseline`` defaults to the champion's entry in the model registry; ``store`` to the
    settings' feature repo. Labels count if they arrived by ``labels_as_of`` (default: end).
    """
    from ontime.repo import describe_service

    window = Window.of(start, end, labels_as_of)
    timings: dict[str, float] = {}
    with timed(timings, "read_logs"):
        predictions, errors = read_logs(
            settings.serving.log_dir, window, settings.monitoring.window_time
        )
        served = champion_rows(predictions)
    baseline = baseline or load_baseline(settings, window.end)
    with timed(timings, "open_repo"):
        store, contract = open_repo(settings, store)
    spec = describe_service(store, service_name(served, settings.feature_service))
    checks = settings.monitoring
    features = monitored_features(spec, contract, checks.health.freshness_budget_s)
    if served.empty:  # an empty log frame carries only the fixed columns
        absent = [f.name for f in features if f.name not in served.columns]
        served = served.reindex(columns=[*served.columns, *absent])
    require_columns(served, [f.name for f in features], "served-prediction log")
    require_columns(baseline.reference, [f.name for f in features], "reference snapshot")

    notes: list[str] = []
    alarms, signals, metrics = [], [], {}
    parity = drift = labels = parity_run = None
    scores = np.empty(0)
    with timed(timings, "health"):
        health = input_health(
            served, errors, baseline.reference, features, checks.health, spec.entity_keys
        )
    alarms += health.alarms
    metrics |= health.metrics
    if served.empty:
        notes.append(f"no traffic: no champion predictions served in {window.name}")
    else:
        require_columns(served, [SCORE, "threshold", PREDICTION_TIME], "served-prediction log")
        scored = rows_of_model(served, baseline, notes)
        scores = scored[SCORE].to_numpy(dtype="float64")
        with timed(timings, "drift"):
            drift = feature_drift(served, baseline.reference, features, checks.drift, checks.seed)
        with timed(timings, "prediction_drift"):
            moved = prediction_drift(
                scores, baseline.validation_scores, checks.prediction_drift, checks.seed
            )
        with timed(timings, "labels"):
            labels = labels_step(settings, scored, baseline, window, notes)
        parity, parity_run = parity_step(store, spec, contract, served, features, checks, timings)
        alarms += parity.alarms + labels.alarms
        signals += moved.signals + drift.signals
        metrics |= parity.metrics | drift.metrics | moved.metrics | labels.metrics

    decision = decide(
        alarms,
        signals,
        traffic=len(served),
        labels_sufficient=bool(labels and labels.sufficient),
        degraded=bool(labels and labels.degraded),
        regressed_after_release=bool(labels and labels.regressed_after_release),
    )
    summary = Summary(
        window={
            "name": window.name,
            "start": window.start.isoformat(),
            "end": window.end.isoformat(),
            "labels_as_of": window.labels_as_of.isoformat(),
        },
        model={
            "name": baseline.model_name,
            "version": baseline.model_version,
            "feature_service": spec.name,
        },
        decision=decision,
        alarms=alarms,
        signals=signals,
        metrics=metrics,
        labels=label_section(labels),
        parity_examples=parity.examples if parity else {},
        drift=drift.table if drift else [],
        notes=notes,
        timings_s=timings,
    )
    with timed(timings, "write"):
        write_reports(
            summary,
            checks.reports_dir / window.name,
            scores=scores,
            validation_scores=baseline.validation_scores,
            drift_run=drift.run if drift else None,
            parity_run=parity_run,
        )
    log.info("monitor %s: %s (%s)", window.name, decision.action, decision.reason)
    return summary
