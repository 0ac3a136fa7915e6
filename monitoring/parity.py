"""Row-level parity: did serving send the model what training would have computed?

For a sample of served champion rows, features are recomputed offline at the same
prediction time through the same FeatureService (``training.features.historical_rows``) and
compared value by value. Each mismatch is classified:

- ``stale``: serving marked the value stale, had no value yet, or served an older value.
  "Older" is tested without guessing: the offline value is recomputed at the served value's
  own event time (prediction time minus its served age, plus a visibility slack for the
  write delay). If that reproduces the served value, the online store simply lagged.
- ``value_skew``: anything else; the same point in time gives another value, so the online
  path computes the feature differently. This is what ``repair_parity`` names.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from monitoring.drift import sample
from monitoring.findings import Alarm
from monitoring.schema import MonitoredFeature, normalized
from monitoring.settings import ParitySettings
from ontime.contract import STALE, FeatureContract
from ontime.repo import ServiceSpec

log = logging.getLogger(__name__)

PREDICTION_TIME = "prediction_time"
EXAMPLES = 5


@dataclass
class ParityResult:
    metrics: dict[str, float] = field(default_factory=dict)
    alarms: list[Alarm] = field(default_factory=list)
    examples: dict[str, list[dict]] = field(default_factory=dict)
    served: pd.DataFrame | None = None  # normalized served sample
    offline: pd.DataFrame | None = None  # normalized offline recompute, same rows


def same_values(a: pd.Series, b: pd.Series, numeric: bool, settings: ParitySettings) -> np.ndarray:
    """Element-wise equality with NaN == NaN and a tolerance for numbers."""
    both_missing = (a.isna() & b.isna()).to_numpy()
    if numeric:
        x, y = a.to_numpy(dtype="float64"), b.to_numpy(dtype="float64")
        with np.errstate(invalid="ignore"):
            close = np.abs(x - y) <= settings.abs_tolerance + settings.rel_tolerance * np.abs(y)
        return both_missing | np.nan_to_num(close, nan=False).astype(bool)
    return both_missing | (a.astype(object) == b.astype(object)).fillna(False).to_numpy(bool)


def recompute(
    store, spec: ServiceSpec, contract: FeatureContract, rows: pd.DataFrame, at: pd.Series
):
    """Offline point-in-time features for ``rows`` as of ``at``; request time stays as served."""
    from training.features import entity_frame, historical_rows

    asked = rows.assign(**{PREDICTION_TIME: at.to_numpy()})
    entities = entity_frame(asked, spec, PREDICTION_TIME, contract.request_time_field)
    field_ = contract.request_time_field
    if field_ in entities.columns:
        served_at = pd.to_datetime(rows[PREDICTION_TIME], utc=True).astype("datetime64[us, UTC]")
        entities[field_] = served_at.astype("int64").to_numpy() / 1e6
    return historical_rows(store, spec, entities)


def row_parity(
    store,
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
    times = pd.to_datetime(rows[PREDICTION_TIME], utc=True)
    offline_raw = recompute(store, spec, contract, rows, times)
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
        _score(
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


def _obviously_stale(rows, served_n, offline_n, feature, mismatch) -> np.ndarray:
    """Serving said stale, or the online store had no value where offline has one."""
    flagged = np.zeros(len(rows), dtype=bool)
    if feature.status in rows.columns:
        flagged |= (rows[feature.status] == STALE).to_numpy()
    flagged |= (served_n[feature.name].isna() & offline_n[feature.name].notna()).to_numpy()
    return mismatch & flagged


def _older_values(store, spec, contract, rows, served_n, features, mismatch, stale, settings):
    """Mark mismatches whose served value is what offline held at the value's own event time."""
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
    served_time = pd.to_datetime(picks[PREDICTION_TIME], utc=True).reset_index(drop=True)
    earlier = served_time - pd.to_timedelta(back_s, unit="s")
    offline = normalized(recompute(store, spec, contract, picks, earlier), features)
    for k, (index, feature) in enumerate(pairs):
        then = offline[feature.name].iloc[[k]].reset_index(drop=True)
        now = served_n[feature.name].iloc[[index]].reset_index(drop=True)
        if same_values(now, then, feature.kind != "categorical", settings)[0]:
            stale[feature.name][index] = True


def _score(
    result, rows, served_n, offline_n, feature, mismatch, stale, settings, entity_keys=()
) -> None:
    name, n = feature.name, len(rows)
    skew = mismatch & ~stale
    rates = {"mismatch_rate": mismatch.mean(), "stale_rate": stale.mean(), "skew_rate": skew.mean()}
    for key, value in rates.items():
        result.metrics[f"parity.{key}.{name}"] = float(value)
    if mismatch.any():
        # Entity keys find the row in Feast; the request id only when it was read.
        keys = [c for c in (PREDICTION_TIME, "request_id", *entity_keys) if c in rows.columns]
        shown = np.flatnonzero(mismatch)[:EXAMPLES]
        result.examples[name] = [
            {
                **{k: str(rows[k].iat[i]) for k in keys},
                "served": _plain(served_n[name].iat[i]),
                "offline": _plain(offline_n[name].iat[i]),
                "class": "stale" if stale[i] else "value_skew",
            }
            for i in shown
        ]
    checks = (
        ("value_skew", skew, settings.skew_rate),
        ("stale_online", stale, settings.stale_rate),
    )
    for check, flags, limit in checks:
        count = int(flags.sum())
        if count >= settings.min_mismatches and count / n > limit:
            what = "differs from" if check == "value_skew" else "is older than"
            result.alarms.append(
                Alarm(
                    "parity",
                    check,
                    name,
                    count / n,
                    limit,
                    f"served {name} {what} the offline point-in-time value in "
                    f"{count} of {n} sampled rows ({count / n:.1%})",
                )
            )


def _plain(value):
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value
