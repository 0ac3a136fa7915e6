"""Row-level parity: did serving send the model what training would have computed?

For a sample of served champion rows, features are recomputed offline at the same
prediction time through the same FeatureService (``ontime.features.historical_rows``) and
compared value by value. Each mismatch is classified:

- ``stale``: serving marked the value stale, had no value yet, or served an older value.
  "Older" is tested without guessing: the offline value is recomputed at the served value's
  own event time (prediction time minus its served age, plus a visibility slack for the
  write delay). If that reproduces the served value, the online store simply lagged.
- ``value_skew``: anything else; the same point in time gives another value, so the online
  path computes the feature differently. This is what ``repair_parity`` names.

The per-feature rates, alarms and examples are ``monitoring.parity_scores``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from monitoring import evidently_reports
from monitoring.drift import sample
from monitoring.parity_scores import ParityResult, same_values, score_feature
from monitoring.schema import MonitoredFeature, normalized
from monitoring.timing import timed
from ontime.contract import STALE, FeatureContract
from ontime.repo import ServiceSpec
from ontime.settings.monitoring import MonitoringSettings, ParitySettings
from ontime.timeutil import utc_series
from serving.log_reader import PREDICTION_TIME

if TYPE_CHECKING:
    from feast import FeatureStore

    from monitoring.background import EvidentlyWorker

log = logging.getLogger(__name__)

# A parity report is either computed or still running in the Evidently worker.
PendingRun = evidently_reports.DriftRun | Future | None


def recompute(
    store: FeatureStore,
    spec: ServiceSpec,
    contract: FeatureContract,
    rows: pd.DataFrame,
    at: pd.Series,
) -> pd.DataFrame:
    """Offline point-in-time features for ``rows`` as of ``at``; request time stays as served."""
    from ontime.features import entity_frame, historical_rows

    asked = rows.assign(**{PREDICTION_TIME: at.to_numpy()})
    entities = entity_frame(asked, spec, PREDICTION_TIME, contract.request_time_field)
    field_ = contract.request_time_field
    if field_ in entities.columns:
        served_time = utc_series(rows[PREDICTION_TIME])
        entities[field_] = served_time.astype("int64").to_numpy() / 1e6
    return historical_rows(store, spec, entities)


def row_parity(
    store: FeatureStore,
    spec: ServiceSpec,
    contract: FeatureContract,
    served: pd.DataFrame,
    features: Sequence[MonitoredFeature],
    settings: ParitySettings,
    seed: int,
) -> ParityResult:
    """Per-feature mismatch, stale and value-skew rates on a sample of served rows."""
    result = ParityResult()
    if settings.sample_rows == 0 or served.empty:
        result.metrics["parity.rows"] = 0.0
        return result
    rows = _plain_columns(sample(served, settings.sample_rows, seed).reset_index(drop=True))
    offline_raw = recompute(store, spec, contract, rows, utc_series(rows[PREDICTION_TIME]))
    served_n, offline_n = normalized(rows, features), normalized(offline_raw, features)
    result.served, result.offline = served_n, offline_n
    result.metrics["parity.rows"] = float(len(rows))

    mismatch = {
        f.name: ~same_values(served_n[f.name], offline_n[f.name], f.kind != "categorical", settings)
        for f in features
    }
    stale = {
        f.name: _obviously_stale(rows, served_n, offline_n, f, mismatch[f.name]) for f in features
    }
    _older_values(store, spec, contract, rows, served_n, features, mismatch, stale, settings)
    for feature in features:
        score_feature(
            result,
            rows,
            served_n,
            offline_n,
            feature,
            mismatch[feature.name],
            stale[feature.name],
            settings,
            spec.entity_keys,
        )
    return result


def _plain_columns(rows: pd.DataFrame) -> pd.DataFrame:
    """Categorical log columns as plain values: Feast's entity frame wants the stored type."""
    plain = {c: object for c in rows.columns if isinstance(rows[c].dtype, pd.CategoricalDtype)}
    return rows.astype(plain) if plain else rows


def _obviously_stale(
    rows: pd.DataFrame,
    served_n: pd.DataFrame,
    offline_n: pd.DataFrame,
    feature: MonitoredFeature,
    mismatch: np.ndarray,
) -> np.ndarray:
    """Serving said stale, or the online store had no value where offline has one."""
    flagged = np.zeros(len(rows), dtype=bool)
    if feature.status in rows.columns:
        flagged |= (rows[feature.status] == STALE).to_numpy()
    flagged |= (served_n[feature.name].isna() & offline_n[feature.name].notna()).to_numpy()
    return mismatch & flagged


def _older_values(
    store: FeatureStore,
    spec: ServiceSpec,
    contract: FeatureContract,
    rows: pd.DataFrame,
    served_n: pd.DataFrame,
    features: Sequence[MonitoredFeature],
    mismatch: dict[str, np.ndarray],
    stale: dict[str, np.ndarray],
    settings: ParitySettings,
) -> None:
    """Mark mismatches whose served value is what offline held at the value's own event time.

    Such a value is stale (the online store lagged), not computed differently.
    """
    pairs = [
        (index, f)
        for f in features
        if f.age in rows.columns
        for index in np.flatnonzero(mismatch[f.name] & ~stale[f.name])
        if np.isfinite(rows[f.age].iat[index])
    ]
    if not pairs:
        return
    picks = rows.iloc[[index for index, _ in pairs]].reset_index(drop=True)
    back_s = [max(rows[f.age].iat[i] - settings.visibility_slack_s, 0.0) for i, f in pairs]
    earlier = utc_series(picks[PREDICTION_TIME]) - pd.to_timedelta(back_s, unit="s")
    offline = normalized(recompute(store, spec, contract, picks, earlier), features)
    for k, (index, feature) in enumerate(pairs):
        then = offline[feature.name].iloc[[k]].reset_index(drop=True)
        now = served_n[feature.name].iloc[[index]].reset_index(drop=True)
        if same_values(now, then, feature.kind != "categorical", settings)[0]:
            stale[feature.name][index] = True


def parity_step(
    store: FeatureStore,
    spec: ServiceSpec,
    contract: FeatureContract,
    served: pd.DataFrame,
    features: Sequence[MonitoredFeature],
    checks: MonitoringSettings,
    timings: dict[str, float],
    worker: EvidentlyWorker | None = None,
) -> tuple[ParityResult, PendingRun]:
    """Row parity on a sample and its Evidently report (served = current, offline = ref).

    With ``worker`` the report is a future run (see ``collect``).
    """
    with timed(timings, "parity"):
        parity = row_parity(store, spec, contract, served, features, checks.parity, checks.seed)
        return parity, parity_report(parity, features, checks, worker)


def parity_report(
    parity: ParityResult,
    features: Sequence[MonitoredFeature],
    checks: MonitoringSettings,
    worker: EvidentlyWorker | None = None,
) -> PendingRun:
    """Evidently's drift report of the served sample against its offline recompute."""
    if parity.served is None or parity.served.empty or not checks.drift.evidently_reports:
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


def collect(run: PendingRun) -> evidently_reports.DriftRun | None:
    """A drift run, waiting for it when it is still a future in the worker."""
    return run.result() if isinstance(run, Future) else run
