"""``monitor(settings, start, end)``: compute every check for a window, decide, then persist.

The three questions stay separate: is input data valid now (health, parity)? does model
behaviour still look plausible (feature and prediction drift)? did outcomes stay good
enough to keep serving this release (delayed labels)? Only the last two kinds of evidence
can retrain or roll back, and drift alone never does. Every threshold comes from the
champion's monitoring profile for windows of this length (``monitoring.profiles``): its
checks' statistics on clean reference windows, stored with the released model.

Stages run one after the other, except Evidently's reports: threads gained nothing
(measured; pandas, Feast and Evidently all hold the GIL), so Evidently is imported and run
in a worker process that overlaps Feast's import and the other checks. Stage timings are
recorded in the summary; ``evidently_wait`` is the part the worker did not hide.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from monitoring.background import EvidentlyWorker
from monitoring.champion import load_reference
from monitoring.decision import decide
from monitoring.drift import feature_drift, finish_drift
from monitoring.estimate import estimate, with_realised
from monitoring.freshness import view_freshness
from monitoring.health import input_health
from monitoring.history import earlier_decisions, record
from monitoring.labels import label_section, labels_step
from monitoring.parity import collect, parity_step
from monitoring.prediction_drift import prediction_drift
from monitoring.profiles import profile_for
from monitoring.reference import Reference
from monitoring.report import write_reports
from monitoring.schema import monitored_features
from monitoring.summary import Summary
from monitoring.timing import timed
from monitoring.window import (
    Window,
    champion_rows,
    log_columns,
    logged_service,
    read_logs,
    require_columns,
    rows_of_model,
)
from serving.log_reader import PREDICTION_TIME, PROBABILITY, THRESHOLD

if TYPE_CHECKING:
    from feast import FeatureStore

    from monitoring.profile import MonitoringProfile
    from ontime.contract import FeatureContract
    from ontime.settings import Settings

log = logging.getLogger(__name__)


def monitor(
    settings: Settings,
    start: datetime,
    end: datetime,
    *,
    reference: Reference | None = None,
    labels_as_of: datetime | None = None,
    store: FeatureStore | None = None,
    worker: EvidentlyWorker | None = None,
) -> Summary:
    """Check the served traffic of ``[start, end)`` and write ``reports/<window>/``.

    ``reference`` defaults to the champion's entry in the model registry; ``store`` to the
    settings' feature repo. Labels count if they arrived by ``labels_as_of`` (default: end).
    A series of windows passes all three, and its Evidently ``worker``, once for all.
    The window's result is added to the metric history (``monitoring.history``).
    """
    window = Window.of(start, end, labels_as_of)
    log_dir, clock = settings.serving.log_dir, settings.monitoring.window_time
    # The service the champion rows name (two small columns; a missing log folder fails
    # here, before Feast is imported), then only the columns its checks use.
    service, traffic = logged_service(log_dir, window, clock, settings.feature_service)
    # Evidently's import and reports run in a worker process while Feast loads and the other
    # checks run (monitoring/background.py); its results are in before anything is written,
    # and it publishes the window to the dashboard (Evidently is imported there, not here).
    reports = traffic and settings.monitoring.drift.evidently_reports
    own = reports and worker is None  # a worker of its own, stopped when the window is done
    with EvidentlyWorker() if own else nullcontext(worker if reports else None) as worker:
        summary = _judge(settings, window, service, reference, store, worker)
        with timed(summary.timings_s, "dashboard"):  # the Evidently UI's project
            if worker is not None:
                worker.publish(settings.monitoring, summary)
    # Without a worker (no traffic, or Evidently reports off) `ontime ui` publishes it.
    log.info("monitor %s: %s (%s)", window.name, summary.action, summary.decision.reason)
    return summary


def _judge(
    settings: Settings,
    window: Window,
    service: str,
    reference: Reference | None,
    store: FeatureStore | None,
    worker: EvidentlyWorker | None,
) -> Summary:
    """Every check of the window, the decision, its reports and its history rows."""
    from ontime.repo import describe_service

    timings: dict[str, float] = {}
    log_dir, clock = settings.serving.log_dir, settings.monitoring.window_time
    with timed(timings, "open_repo"):
        store, contract = _open_repo(settings, store)
    checks = settings.monitoring
    with timed(timings, "read_logs"):
        spec = describe_service(store, service)
        features = monitored_features(spec, contract, checks.health.freshness_budget_s)
        columns = log_columns(
            spec, features, settings.labels.join_key, settings.training.segments
        )
        predictions, errors = read_logs(log_dir, window, clock, columns)
        served = champion_rows(predictions)
    reference = reference or load_reference(settings, window.end)
    if served.empty:  # an empty log frame carries only the fixed columns
        absent = [f.name for f in features if f.name not in served.columns]
        served = served.reindex(columns=[*served.columns, *absent])
    require_columns(served, [f.name for f in features], "served-prediction log")
    require_columns(reference.rows, [f.name for f in features], "reference snapshot")

    notes: list[str] = []
    with timed(timings, "profile"):
        hours = (window.end - window.start).total_seconds() / 3600
        profile = profile_for(
            reference, hours, features, spec.entity_keys, checks,
            settings.training.costs, notes,
        )  # fmt: skip
    alarms, signals, metrics = [], [], {}
    parity = drift = labels = parity_run = guessed = None
    scores = np.empty(0)
    # Evidently jobs are submitted as soon as their inputs exist (drift, then parity's
    # offline recompute) so the worker runs them while health and labels are computed.
    if not served.empty:
        scoring = [PROBABILITY, THRESHOLD, PREDICTION_TIME]
        require_columns(served, scoring, "served-prediction log")
        with timed(timings, "drift"):
            drift = feature_drift(
                served, reference.rows, features, checks.drift, checks.seed, worker
            )
        parity, parity_run = parity_step(
            store, spec, contract, served, features, checks, timings, worker
        )
    with timed(timings, "health"):
        health = input_health(
            served, errors, reference.rows, features, checks, spec.entity_keys, profile
        )
    alarms += health.alarms
    metrics |= health.metrics
    with timed(timings, "freshness"):
        fresh = view_freshness(served, spec, settings.serving.freshness_sla,
                               checks.health.sla_breach_rate)  # fmt: skip
    alarms += fresh.alarms
    metrics |= fresh.metrics
    if served.empty:
        notes.append(f"no traffic: no champion predictions served in {window.name}")
    else:
        scored = rows_of_model(served, reference, notes)
        scores = scored[PROBABILITY].to_numpy(dtype="float64")
        with timed(timings, "prediction_drift"):
            moved = prediction_drift(
                scores, scored[PREDICTION_TIME], reference.validation_scores, checks, profile
            )
        with timed(timings, "estimate"):
            guessed = estimate(
                scores, scored[THRESHOLD].to_numpy(dtype="float64"),
                scored[PREDICTION_TIME], reference, profile, checks, settings.training.costs,
            )  # fmt: skip
        with timed(timings, "labels"):
            labels = labels_step(settings, scored, reference, window, notes, profile)
        with timed(timings, "evidently_wait"):  # what the worker did not hide
            drift = finish_drift(drift, checks.drift)
            parity_run = collect(parity_run)
        alarms += parity.alarms + labels.alarms
        signals += moved.signals + drift.signals + guessed.signals
        metrics |= parity.metrics | drift.metrics | moved.metrics | labels.metrics
        metrics |= guessed.metrics

    not_run = health.not_run + (labels.not_run if labels else [])
    decision = decide(
        alarms,
        signals,
        traffic=len(served),
        labels_sufficient=bool(labels and labels.sufficient),
        degraded=bool(labels and labels.degraded),
        regressed_after_release=bool(labels and labels.regressed_after_release),
        not_run=not_run,
    )
    summary = Summary(
        window={
            "name": window.name,
            "start": window.start.isoformat(),
            "end": window.end.isoformat(),
            "labels_as_of": window.labels_as_of.isoformat(),
        },
        model={
            "name": reference.model_name,
            "version": reference.model_version,
            "feature_service": spec.name,
        },
        decision=decision,
        alarms=alarms,
        signals=signals,
        metrics=metrics,
        labels=label_section(labels),
        estimates=with_realised(guessed.table, label_section(labels).get("intervals", {}))
        if guessed
        else [],
        parity_examples=parity.examples if parity else {},
        drift=drift.table if drift else [],
        notes=notes,
        timings_s=timings,
        not_run=[n.to_dict() for n in not_run],
        profile=profile_section(profile),
    )
    with timed(timings, "write"):
        write_reports(
            summary,
            checks.reports_dir / window.name,
            scores=scores,
            validation_scores=reference.validation_scores,
            drift_run=drift.run if drift else None,
            parity_run=parity_run,
            timeline=earlier_decisions(checks.history_path, window),
        )
    with timed(timings, "history"):
        record(checks.history_path, summary)
    return summary


def profile_section(profile: MonitoringProfile | None) -> dict:
    """What the summary says about the thresholds' origin."""
    if profile is None:
        return {"calibrated": False}
    return {
        "calibrated": True,
        "model_version": profile.model_version,
        "window_hours": profile.window_hours,
        "clean_windows": profile.windows,
        "period": profile.period,
        "false_alarm_rates": profile.false_alarms,
    }


def _open_repo(
    settings: Settings, store: FeatureStore | None
) -> tuple[FeatureStore, FeatureContract]:
    """The Feast store (unless given) and the feature contract.

    Opened inside the run, not at import: Feast's import alone takes seconds.
    """
    from ontime.repo import load_contract, open_store

    return store or open_store(settings.feature_repo, settings.profile), load_contract(
        settings.feature_repo
    )
