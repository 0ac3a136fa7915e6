"""Build a monitoring profile: run every check's statistic on clean reference windows.

The reference period (rows the champion scored but was not trained on, with their labels)
is cut into windows as long as the monitored one, one starting every ``step_hours``, so
every alignment of the day is among them. On each window: the input-health statistics
(``monitoring.health_stats``), the prediction-drift distance to the rest of the reference
reweighted to the window's strata, and the standardised label-quality errors against the
rest of the reference's calibration. The rest, not the whole: a window is never compared
with itself. Each threshold is then a quantile of its check's clean-window values, and the
backtest holds each block of days out to measure the false-alarm rate those thresholds give.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from monitoring.false_alarms import backtest
from monitoring.health_stats import HealthArrays, health_arrays, health_statistics
from monitoring.profile import MonitoringProfile, fingerprint
from monitoring.schema import MonitoredFeature
from monitoring.score_reference import histogram, mixture, wasserstein
from monitoring.significance import calibration_ratios, expected_quality
from monitoring.strata import hour_block_count, strata, stratum_count
from monitoring.verdict import material
from ontime.errors import OntimeError
from ontime.settings.monitoring import MonitoringSettings, ProfileSettings
from ontime.settings.training import CostMatrix
from serving.log_reader import PREDICTION_TIME, PROBABILITY, THRESHOLD

log = logging.getLogger(__name__)

LABEL = "_label"  # the reference period's outcome column (NaN where unknown)


def build_profile(
    period: pd.DataFrame,
    features: Sequence[MonitoredFeature],
    keys: Sequence[str],
    settings: MonitoringSettings,
    costs: CostMatrix,
    window_hours: float,
    model: tuple[str, str],
) -> MonitoringProfile:
    """Every statistic on every clean window of ``period``, and the profile they make."""
    absent = [c for c in (PREDICTION_TIME, PROBABILITY, THRESHOLD) if c not in period.columns]
    if absent:
        raise OntimeError(f"the reference period lacks column(s) {absent}")
    strata_settings = settings.profile
    times = pd.to_datetime(period[PREDICTION_TIME], utc=True)
    order = np.argsort(times.to_numpy(), kind="stable")
    rows = period.iloc[order].reset_index(drop=True)
    epoch = pd.Timestamp(0, tz="UTC")
    seconds = ((times.iloc[order] - epoch) // pd.Timedelta(seconds=1)).to_numpy(dtype=np.int64)
    stratum = strata(times.iloc[order], strata_settings)
    scores = rows[PROBABILITY].to_numpy(dtype="float64")
    counts = histogram(scores, stratum, strata_settings)
    labelled, late = _outcomes(rows)
    n_strata = stratum_count(strata_settings)
    observed = np.bincount(stratum[labelled], late[labelled], minlength=n_strata)
    expected = np.bincount(stratum[labelled], scores[labelled], minlength=n_strata)
    flagged = scores >= rows[THRESHOLD].to_numpy(dtype="float64")
    arrays = health_arrays(rows, features, keys, settings.health.max_segments)

    length = round(window_hours * 3600)
    step = round(strata_settings.step_hours * 3600)
    first = int(seconds[0]) // 3600 * 3600 if len(seconds) else 0
    starts = np.arange(first, int(seconds[-1]) - length + 2, step) if len(seconds) else []
    values: dict[str, list[float | None]] = {}
    materials: dict[str, list[bool]] = {}
    groups, sizes = [], []
    day_group = stratum // hour_block_count(strata_settings)
    for number, start in enumerate(starts):
        low, high = np.searchsorted(seconds, [start, start + length])
        window = slice(low, high)
        sizes.append(int(high - low))
        groups.append(int(np.bincount(day_group[window]).argmax()) if high > low else -1)
        found = _health(arrays, window, features, settings)
        found["prediction_drift"] = _drift(scores[window], stratum[window], counts, strata_settings)
        mine = np.zeros(len(rows), dtype=bool)
        mine[window] = True
        quality, material = _quality(
            mine & labelled, late, scores, flagged, stratum, observed, expected, settings, costs
        )
        found |= quality
        for key, worse in material.items():
            materials.setdefault(key, [False] * len(starts))[number] = worse
        for key, value in found.items():
            values.setdefault(key, [None] * len(starts))[number] = value
    quantiles = {
        key: float(np.quantile(known, strata_settings.quantile))
        for key, column in values.items()
        if (known := [v for v in column if v is not None])
    }
    profile = MonitoringProfile(
        model_name=model[0],
        model_version=model[1],
        window_hours=window_hours,
        fingerprint=fingerprint(settings, window_hours),
        period={"start": times.min().isoformat(), "end": times.max().isoformat()},
        window_starts=[pd.Timestamp(s, unit="s", tz="UTC").isoformat() for s in starts],
        values=values,
        quantiles=quantiles,
        score_counts=counts.astype(int).tolist(),
        observed=observed.tolist(),
        expected=expected.tolist(),
        window_groups=groups,
        material=materials,
        window_rows=sizes,
        quantile_level=strata_settings.quantile,
        min_windows=strata_settings.min_windows,
    )
    profile.false_alarms = backtest(profile, settings)
    log.info(
        "monitoring profile of %s v%s: %d clean %g-hour windows",
        model[0], model[1], profile.windows, window_hours,
    )  # fmt: skip
    return profile


def _outcomes(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Which rows have a known outcome, and the outcomes as 0/1 (0 where unknown)."""
    if LABEL not in rows.columns:
        return np.zeros(len(rows), dtype=bool), np.zeros(len(rows))
    known = rows[LABEL].notna().to_numpy()
    late = np.where(known, rows[LABEL].fillna(False).astype(bool).to_numpy(), False)
    return known, late.astype("float64")


def _health(
    arrays: HealthArrays,
    window: slice,
    features: Sequence[MonitoredFeature],
    settings: MonitoringSettings,
) -> dict[str, float | None]:
    """The window's input-health statistics by key (None where too few rows)."""
    return {
        stat.key: (stat.value if stat.enough else None)
        for stat in health_statistics(arrays, features, settings.health, window)
    }


def _drift(
    scores: np.ndarray, stratum: np.ndarray, counts: np.ndarray, settings: ProfileSettings
) -> float | None:
    """W1 of the window's scores to the rest of the reference, reweighted to its strata."""
    if scores.size == 0:
        return None
    mine = histogram(scores, stratum, settings)
    rest = counts - mine
    weights = mine.sum(axis=1)
    return float(wasserstein(mine.sum(axis=0), mixture(rest, weights, settings)))


def _quality(
    mine: np.ndarray,
    late: np.ndarray,
    scores: np.ndarray,
    flagged: np.ndarray,
    stratum: np.ndarray,
    observed: np.ndarray,
    expected: np.ndarray,
    settings: MonitoringSettings,
    costs: CostMatrix,
) -> tuple[dict[str, float | None], dict[str, bool]]:
    """Standardised label-quality errors of the window's labelled rows against the rest of
    the reference's calibration (None when fewer than ``labels.min_samples``), and whether
    each metric was materially worse than expected."""
    names = ("quality.cost_per_order", "quality.precision", "quality.recall")
    if mine.sum() < settings.labels.min_samples:
        return dict.fromkeys(names), {}
    n_strata = len(observed)
    own_observed = np.bincount(stratum[mine], late[mine], minlength=n_strata)
    own_expected = np.bincount(stratum[mine], scores[mine], minlength=n_strata)
    ratios = calibration_ratios(
        observed - own_observed, expected - own_expected, settings.profile.calibration_prior
    )
    found = expected_quality(
        late[mine].astype(bool),
        scores[mine],
        flagged[mine],
        scores[mine] * ratios[stratum[mine]],
        costs,
    )
    return (
        {f"quality.{name}": metric.z for name, metric in found.items()},
        {
            f"quality.{name}": material(name, metric, settings.labels)
            for name, metric in found.items()
        },
    )
