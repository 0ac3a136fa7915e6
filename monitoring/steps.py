"""The steps ``monitor`` strings together: input checks, the label join, report sections."""

from __future__ import annotations

import time
from concurrent.futures import Future
from contextlib import contextmanager

import pandas as pd

from monitoring.baseline import Baseline
from monitoring.labels import join_labels, label_quality, read_labels
from monitoring.parity import PREDICTION_TIME, row_parity
from ontime.errors import OntimeError

SCORE = "probability"


@contextmanager
def timed(timings: dict[str, float], name: str):
    """Record a stage's wall time in seconds under ``name``."""
    started = time.perf_counter()
    yield
    timings[name] = round(time.perf_counter() - started, 3)


def log_columns(spec, features, settings) -> list[str]:
    """The prediction-log columns monitoring reads: no request ids, no per-row decisions."""
    used = [
        "served_at", PREDICTION_TIME, SCORE, "threshold", "latency_ms",
        "role", "model_version", "feature_service", settings.labels.join_key,
        *spec.entity_keys, *settings.training.segments,
    ]  # fmt: skip
    for feature in features:
        used += [feature.name, feature.status, feature.age]
    return list(dict.fromkeys(used))


def rows_of_model(served: pd.DataFrame, baseline: Baseline, notes: list[str]) -> pd.DataFrame:
    """Rows scored by the baseline's model version: scores and labels judge that model only."""
    if "model_version" not in served.columns:
        return served
    mine = (served["model_version"].astype(str) == str(baseline.model_version)).to_numpy()
    if not mine.all():
        others = sorted(served.loc[~mine, "model_version"].astype(str).unique())
        notes.append(
            f"{int((~mine).sum())} champion rows were scored by other version(s) {others}; "
            f"score drift and label quality use the {int(mine.sum())} rows of "
            f"{baseline.describe()}"
        )
    return served[mine].reset_index(drop=True) if not mine.all() else served


def require_columns(frame: pd.DataFrame, columns, what: str) -> None:
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise OntimeError(f"the {what} lacks column(s) {absent}")


def open_repo(settings, store):
    """The Feast store and the feature contract (Feast's import alone takes seconds)."""
    from ontime.repo import load_contract, open_store

    return store or open_store(settings.feature_repo), load_contract(settings.feature_repo)


def parity_step(store, spec, contract, served, features, checks, timings, worker=None):
    """Row parity on a sample and its Evidently report (served = current, offline = ref).

    With ``worker`` the report is a future run (see ``collect``).
    """
    with timed(timings, "parity"):
        parity = row_parity(store, spec, contract, served, features, checks.parity, checks.seed)
        return parity, parity_report(parity, features, checks, worker)


def parity_report(parity, features, checks, worker=None):
    from monitoring import evidently_reports

    if parity.served is None or parity.served.empty:
        return None
    job = (
        parity.served,  # current: what serving sent
        parity.offline,  # reference: what training would have computed
        [f.name for f in features if f.is_numeric],
        [f.name for f in features if not f.is_numeric],
        checks.drift.numeric_method,
        checks.drift.categorical_method,
        checks.drift.inspect_share,
    )
    return evidently_reports.run_drift(*job) if worker is None else worker.run_drift(*job)


def collect(run):
    """A drift run, waiting for it when it is still a future in the worker."""
    return run.result() if isinstance(run, Future) else run


def labels_step(settings, served, baseline, window, notes):
    source = settings.labels
    if source.join_key not in served.columns:
        raise OntimeError(f"labels.join_key '{source.join_key}' is not a served-log column")
    table = read_labels(
        source.table, source.join_key, source.column, source.available_at, window.labels_as_of
    )
    if table is None:
        notes.append(f"label table {source.table} does not exist yet: no quality verdict")
        table = pd.DataFrame(columns=[source.join_key, source.column, source.available_at])
    # Only what the label metrics read: a 1M-row window is not copied whole.
    needed = [source.join_key, PREDICTION_TIME, SCORE, "threshold", *settings.training.segments]
    served = served[list(dict.fromkeys(c for c in needed if c in served.columns))]
    joined = join_labels(served, table, source.join_key, source.column, PREDICTION_TIME)
    result = label_quality(
        joined,
        settings.training.segments,
        baseline,
        settings.training.costs,
        settings.training.risk_buckets,
        settings.monitoring.labels,
        window.end,
    )
    if result.note:
        notes.append(result.note)
    return result


def label_section(labels) -> dict:
    if labels is None:
        return {"coverage": 0.0, "note": "no traffic", "aggregate": {}, "slices": {}}
    return {
        "coverage": labels.coverage,
        "sufficient": labels.sufficient,
        "note": labels.note,
        "aggregate": labels.aggregate,
        "slices": labels.slices,
        "calibration": labels.calibration,
    }
