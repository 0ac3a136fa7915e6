"""PSI and prediction drift on small arrays: quiet on the same distribution, loud on a shift."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import wasserstein_distance

from monitoring.calibrate import build_profile
from monitoring.drift import psi_categorical, psi_numeric
from monitoring.prediction_drift import prediction_drift
from monitoring.score_reference import WIDTH
from ontime.settings.monitoring import MonitoringSettings, PredictionDriftSettings
from ontime.settings.training import CostMatrix

rng = np.random.default_rng(3)


def test_psi_is_near_zero_for_the_same_distribution_and_large_for_a_shift():
    reference = rng.normal(0, 1, 20_000)
    assert psi_numeric(reference, rng.normal(0, 1, 5_000), bins=10) < 0.02
    assert psi_numeric(reference, rng.normal(1, 1, 5_000), bins=10) > 0.25


def test_psi_ignores_missing_values_and_handles_ties():
    reference = np.r_[np.zeros(900), np.ones(100), np.full(50, np.nan)]
    same = np.r_[np.zeros(90), np.ones(10), np.full(500, np.nan)]
    assert psi_numeric(reference, same, bins=10) == pytest.approx(0.0, abs=1e-9)
    flipped = np.r_[np.zeros(10), np.ones(90)]
    assert psi_numeric(reference, flipped, bins=10) > 1.0


def test_categorical_psi_sees_a_new_category():
    reference = pd.Series(["a"] * 50 + ["b"] * 50)
    assert psi_categorical(reference, pd.Series(["a", "b"] * 20)) == pytest.approx(0.0)
    assert psi_categorical(reference, pd.Series(["a"] * 40 + ["c"] * 20)) > 0.5


WEEK = pd.date_range("2026-06-01", periods=7 * 24, freq="h", tz="UTC")
CHECKS = MonitoringSettings()


def times(n, hours=WEEK):
    return pd.Series(rng.choice(hours, n))


def drift(scores, validation, settings=None, seed=0, at=None, profile=None):
    settings = settings or PredictionDriftSettings()
    checks = CHECKS.model_copy(update={"prediction_drift": settings, "seed": seed})
    at = times(len(scores)) if at is None else at
    return prediction_drift(scores, at, validation, checks, profile)


def test_prediction_drift_is_quiet_on_a_sample_of_the_validation_scores():
    validation = rng.beta(2, 6, 20_000)
    result = drift(
        rng.choice(validation, 3_000), validation, PredictionDriftSettings(min_distance=0)
    )
    assert result.signals == []
    assert (
        result.metrics["prediction_drift.wasserstein"]
        < result.metrics["prediction_drift.bootstrap_quantile"]
    )


def test_prediction_drift_fires_on_shifted_scores_with_a_reproducible_threshold():
    validation = rng.beta(2, 6, 20_000)
    shifted = np.clip(rng.beta(2, 6, 3_000) + 0.05, 0, 1)
    at = times(len(shifted))
    first = drift(shifted, validation, seed=1, at=at)
    again = drift(shifted, validation, seed=1, at=at)
    assert [s.check for s in first.signals] == ["prediction_drift"]
    assert first.metrics == again.metrics


def test_the_floor_keeps_small_real_shifts_quiet():
    validation = rng.beta(2, 6, 20_000)
    nudged = np.clip(rng.beta(2, 6, 50_000) + 0.01, 0, 1)
    loud = drift(nudged, validation, PredictionDriftSettings(min_distance=0))
    quiet = drift(nudged, validation, PredictionDriftSettings(min_distance=0.02))
    assert loud.signals and not quiet.signals


def test_binned_distance_matches_scipy_within_a_bin():
    validation = rng.beta(2, 6, 10_000)
    current = rng.beta(3, 5, 4_000)
    result = drift(current, validation)
    exact = wasserstein_distance(current, validation)
    assert result.metrics["prediction_drift.wasserstein"] == pytest.approx(exact, abs=WIDTH)


def night_and_day_reference(n=40_000):
    """Reference scores that are high at night and low by day, in a real week of hours."""
    at = times(n)
    night = (at.dt.hour < 8).to_numpy()
    scores = np.where(night, rng.beta(6, 4, n), rng.beta(2, 8, n))
    return pd.DataFrame({"prediction_time": at, "probability": scores, "threshold": 0.5})


def test_a_night_window_is_compared_with_the_reference_nights():
    period = night_and_day_reference()
    profile = build_profile(period, [], [], CHECKS, CostMatrix(), 24.0, ("m", "1"))
    nights = pd.Series([h for h in WEEK if h.hour < 8])
    at = pd.Series(rng.choice(nights, 2_000))
    window = rng.beta(6, 4, 2_000)  # a clean night: scores as the reference's nights
    flat = drift(window, period["probability"].to_numpy(), at=at)
    like_for_like = drift(window, period["probability"].to_numpy(), at=at, profile=profile)
    assert flat.signals  # against the whole day's mix a clean night looks like drift
    assert like_for_like.signals == []
    shifted = drift(np.clip(window + 0.15, 0, 1), None, at=at, profile=profile)
    assert [s.check for s in shifted.signals] == ["prediction_drift"]
