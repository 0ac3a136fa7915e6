"""The label-quality verdict: degraded only when significantly *and* materially worse.

Each metric (cost per order, precision, recall) is compared with what the reference
predicts for this window's own rows (``monitoring.significance``), corrected per stratum of
the clock with the profile's calibration. Its interval is that expectation widened to the
clean windows' quantile of standardised errors (``monitoring.limits``); a metric past it on
the bad side, and past the configured tolerance from the expectation, is degraded. A
regression soon after a release that the previous model's test metrics would not have
allowed points at the release. Only the metrics of ``labels.retrain_on`` (by default the
cost per order) can degrade a window; the others are reported with their intervals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from monitoring.findings import Alarm
from monitoring.limits import limit
from monitoring.profile import MonitoringProfile
from monitoring.reference import Reference
from monitoring.significance import METRICS, Expected, calibration_ratios, expected_quality
from monitoring.strata import main_group, strata
from ontime.settings.monitoring import LabelQualitySettings, MonitoringSettings

if TYPE_CHECKING:
    from ontime.settings.training import CostMatrix

COST = "cost_per_order"


@dataclass
class Verdict:
    """Per-metric intervals, whether quality degraded or regressed, and the alarms."""

    aggregate: dict  # the window's realised metrics (training.metrics), for the rollback test
    metrics: dict[str, float] = field(default_factory=dict)
    alarms: list[Alarm] = field(default_factory=list)
    intervals: dict[str, dict] = field(default_factory=dict)
    degraded: bool = False
    regressed_after_release: bool = False


def corrected(
    p: np.ndarray,
    times: pd.Series | None,
    profile: MonitoringProfile | None,
    checks: MonitoringSettings,
) -> np.ndarray:
    """The chance of a late outcome the reference implies for each row: its score times its
    clock stratum's calibration ratio in the profile (the score itself without a profile)."""
    if profile is None or times is None:
        return np.asarray(p, dtype="float64")
    ratios = calibration_ratios(
        np.asarray(profile.observed), np.asarray(profile.expected), checks.profile.calibration_prior
    )
    return np.asarray(p, dtype="float64") * ratios[strata(times, checks.profile)]


def verdict(
    aggregate: dict,
    y: np.ndarray,
    p: np.ndarray,
    threshold: np.ndarray,
    times: pd.Series | None,
    reference: Reference,
    profile: MonitoringProfile | None,
    checks: MonitoringSettings,
    costs: CostMatrix,
    window_end: datetime,
) -> Verdict:
    """Intervals, the degraded flag and its alarms, and the rollback verdict of a window."""
    settings = checks.labels
    result = Verdict(aggregate)
    group = main_group(times, checks.profile) if times is not None else None
    flagged = p >= threshold
    found = expected_quality(y, p, flagged, corrected(p, times, profile, checks), costs)
    worse = []
    for name in METRICS:
        metric = found[name]
        key = f"quality.{name}"
        width = limit(key, profile.quantile(key, group) if profile else None, checks)
        low, high = metric.interval(width)
        significant = metric.z is not None and metric.z > width
        worse_enough = material(name, metric, settings)
        result.intervals[name] = {
            "value": metric.value,
            "expected": metric.expected,
            "low": low,
            "high": high,
            "z": metric.z,
            "z_threshold": width,
            "significant": significant,
            "material": worse_enough,
        }
        result.metrics[f"labels.expected.{name}"] = _nan(metric.expected)
        result.metrics[f"labels.z.{name}"] = _nan(metric.z)
        if significant and worse_enough and name in settings.retrain_on:
            bound = high if name == COST else low
            worse.append((name, metric, bound))
    result.degraded = bool(worse)
    result.metrics["labels.degraded"] = float(result.degraded)
    for name, metric, bound in worse:
        result.alarms.append(
            Alarm(
                "quality",
                "degraded",
                None,
                float(metric.value),
                float(bound),
                f"{name} {metric.value:.3f} is outside what the reference predicts for this "
                f"window ({metric.expected:.3f}, interval {_band(result.intervals[name])})",
            )
        )
    _rollback(result, reference, settings, window_end)
    return result


def material(name: str, metric: Expected, settings: LabelQualitySettings) -> bool:
    """Worse than expected by more than the configured tolerance."""
    if metric.value is None or metric.expected is None:
        return False
    if name == COST:
        return metric.value > metric.expected * (1 + settings.max_cost_increase)
    drop = settings.max_recall_drop if name == "recall" else settings.max_precision_drop
    return metric.value < metric.expected - drop


def _rollback(
    result: Verdict,
    reference: Reference,
    settings: LabelQualitySettings,
    window_end: datetime,
) -> None:
    """Regressed after release: degraded soon after a promotion, and worse than the previous
    model's test metrics allow."""
    since = reference.promoted_at
    # A release after the window's end cannot explain it; one long before is not "recent".
    recent = since is not None and (
        0 <= (window_end - since).total_seconds() <= settings.rollback_window_days * 86400
    )
    if not (result.degraded and recent and reference.previous_test_metrics):
        return
    behind = _worse_than(result.aggregate, reference.previous_test_metrics, settings)
    result.regressed_after_release = bool(behind)
    result.metrics["labels.regressed_after_release"] = float(bool(behind))
    for name, value, bound in behind:
        result.alarms.append(
            Alarm(
                "quality",
                "regression_after_release",
                None,
                value,
                bound,
                f"{name} {value:.3f} is worse than the previous model's test metrics "
                f"allow ({bound:.3f}) since the release on {since:%Y-%m-%d %H:%M}",
            )
        )


def _worse_than(
    window: dict, expected: dict, settings: LabelQualitySettings
) -> list[tuple[str, float, float]]:
    """(metric, window value, limit) for each metric beyond its tolerance from ``expected``."""
    found = []
    if window.get(COST) is not None and expected.get(COST):
        bound = expected[COST] * (1 + settings.max_cost_increase)
        if window[COST] > bound:
            found.append((COST, window[COST], bound))
    drops = (("recall", settings.max_recall_drop), ("precision", settings.max_precision_drop))
    for name, drop in drops:
        known = window.get(name) is not None and expected.get(name) is not None
        if known and window[name] < expected[name] - drop:
            found.append((name, window[name], expected[name] - drop))
    return found


def _band(interval: dict) -> str:
    low, high = interval["low"], interval["high"]
    return "unknown" if low is None else f"{low:.3f} to {high:.3f}"


def _nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)
