"""Prediction drift: the window's scores against the reference's, reweighted to its mix.

A window's hours and weekdays change its score distribution, so the reference it is
compared with is the mixture of the reference's strata (hour block x day group) in the
window's own proportions (``monitoring.score_reference``). The statistic is the
Wasserstein-1 distance between the two. The signal fires above the larger of:

- the clean-window quantile of the same distance in the monitoring profile (reference
  windows of the same length, each against the rest of the reference), which holds the
  day-to-day variation of real traffic that independent draws miss;
- a bootstrap quantile at the window's own row count (independent draws from the
  mixture), which matters when the window holds far fewer rows than the reference's did.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from monitoring.findings import Signal
from monitoring.limits import limit
from monitoring.profile import MonitoringProfile
from monitoring.score_reference import histogram, mixture, score_bins, wasserstein
from monitoring.strata import main_group, strata
from ontime.settings.monitoring import MonitoringSettings


@dataclass
class PredictionDriftResult:
    """Score-drift metrics by name and the signal, when the scores moved."""

    metrics: dict[str, float] = field(default_factory=dict)
    signals: list[Signal] = field(default_factory=list)


def prediction_drift(
    scores: np.ndarray,
    times: pd.Series,
    validation_scores: np.ndarray,
    checks: MonitoringSettings,
    profile: MonitoringProfile | None,
) -> PredictionDriftResult:
    """Distance of the window's scores to the reference reweighted to the window's strata.

    Without a profile the reference is the validation scores as a whole.
    """
    settings = checks.prediction_drift
    result = PredictionDriftResult()
    scores = np.asarray(scores, dtype="float64")
    known = np.isfinite(scores)
    scores, times = scores[known], pd.Series(times)[known]
    result.metrics["prediction_drift.rows"] = float(scores.size)
    if scores.size == 0:
        return result
    stratum = strata(times, checks.profile)
    current = histogram(scores, stratum, checks.profile)
    if profile is not None:
        reference = mixture(profile.counts(), current.sum(axis=1), checks.profile)
    else:
        reference = np.bincount(score_bins(validation_scores), minlength=current.shape[1])
        reference = reference / max(reference.sum(), 1)
    distance = float(wasserstein(current.sum(axis=0), reference))

    rng = np.random.default_rng(checks.seed)
    resamples = rng.multinomial(scores.size, reference, settings.bootstrap_resamples)
    bootstrap = float(np.quantile(wasserstein(resamples, reference), settings.quantile))
    group = main_group(times, checks.profile)
    clean = profile.quantile("prediction_drift", group) if profile else None
    threshold = max(bootstrap, limit("prediction_drift", clean, checks))
    expected_mean = float(np.sum(reference * (np.arange(reference.size) + 0.5)) / reference.size)
    result.metrics.update(
        {
            "prediction_drift.wasserstein": distance,
            "prediction_drift.bootstrap_quantile": bootstrap,
            "prediction_drift.threshold": threshold,
            "prediction_drift.mean_score": float(scores.mean()),
            "prediction_drift.mean_reference_score": expected_mean,
        }
    )
    if clean is not None:
        result.metrics["prediction_drift.clean_window_quantile"] = clean
    if distance > threshold:
        result.signals.append(
            Signal(
                "prediction_drift",
                None,
                distance,
                threshold,
                f"scores moved: Wasserstein {distance:.4f} to the reference reweighted to "
                f"this window's hours and weekdays (threshold {threshold:.4f}; mean score "
                f"{scores.mean():.3f} vs {expected_mean:.3f})",
            )
        )
    return result
