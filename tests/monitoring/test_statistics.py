"""PSI and prediction drift on small arrays: quiet on the same distribution, loud on a shift."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import wasserstein_distance

from monitoring.drift import psi_categorical, psi_numeric
from monitoring.prediction_drift import BINS, prediction_drift
from ontime.settings.monitoring import PredictionDriftSettings

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


def test_prediction_drift_is_quiet_on_a_sample_of_the_validation_scores():
    validation = rng.beta(2, 6, 20_000)
    result = prediction_drift(
        rng.choice(validation, 3_000), validation, PredictionDriftSettings(min_distance=0), 0
    )
    assert result.signals == []
    assert (
        result.metrics["prediction_drift.wasserstein"]
        < result.metrics["prediction_drift.bootstrap_quantile"]
    )


def test_prediction_drift_fires_on_shifted_scores_with_a_reproducible_threshold():
    validation = rng.beta(2, 6, 20_000)
    shifted = np.clip(rng.beta(2, 6, 3_000) + 0.05, 0, 1)
    first = prediction_drift(shifted, validation, PredictionDriftSettings(), seed=1)
    again = prediction_drift(shifted, validation, PredictionDriftSettings(), seed=1)
    assert [s.check for s in first.signals] == ["prediction_drift"]
    assert first.metrics == again.metrics


def test_the_floor_keeps_small_real_shifts_quiet():
    validation = rng.beta(2, 6, 20_000)
    nudged = np.clip(rng.beta(2, 6, 50_000) + 0.01, 0, 1)
    loud = prediction_drift(nudged, validation, PredictionDriftSettings(min_distance=0), 0)
    quiet = prediction_drift(nudged, validation, PredictionDriftSettings(min_distance=0.02), 0)
    assert loud.signals and not quiet.signals


def test_binned_distance_matches_scipy_within_a_bin():
    validation = rng.beta(2, 6, 10_000)
    current = rng.beta(3, 5, 4_000)
    result = prediction_drift(current, validation, PredictionDriftSettings(), 0)
    exact = wasserstein_distance(current, validation)
    width = (max(current.max(), validation.max()) - min(current.min(), validation.min())) / BINS
    assert result.metrics["prediction_drift.wasserstein"] == pytest.approx(exact, abs=width)
