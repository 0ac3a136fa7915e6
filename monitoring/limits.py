"""Thresholds from clean-window quantiles: the one place a quantile becomes an alarm line.

Live checks and the backtest (``monitoring.calibrate``) both call :func:`limit`, so the
false-alarm rate the backtest prints is the rate of the thresholds the checks use.
"""

from __future__ import annotations

from scipy.stats import norm

from ontime.settings.monitoring import MonitoringSettings

# Checks whose alarm is a hard input failure: beyond the clean range by a clear margin.
BLOCKING = ("null_rate", "unseen_rate", "late_rate")
QUALITY = ("cost_per_order", "precision", "recall")


def limit(check: str, quantile: float | None, settings: MonitoringSettings) -> float:
    """The alarm threshold of ``check`` given its clean-window quantile (None: unknown).

    Without a quantile a rate check falls back to its margin over zero (the caller adds a
    reference rate when it has one).
    """
    health = settings.health
    base = quantile if quantile is not None else 0.0
    if check == "null_rate":
        return base + health.null_rate_excess
    if check == "unseen_rate":
        return base + health.unseen_rate_excess
    if check == "late_rate":
        return base + health.late_rate_excess
    if check == "segment_lag":
        return max(base + health.segment_age_margin, health.segment_age_excess)
    if check == "prediction_drift":
        return max(base, settings.prediction_drift.min_distance)
    if check.startswith("quality."):
        floor = float(norm.ppf(settings.labels.confidence))
        return max(quantile, floor) if quantile is not None else floor
    raise ValueError(f"no threshold rule for check '{check}'")


def check_of(key: str) -> str:
    """The check a profile key belongs to: ``null_rate.carrier`` -> ``null_rate``;
    ``quality.recall`` stays whole."""
    return key if key.startswith("quality.") or "." not in key else key.split(".", 1)[0]
