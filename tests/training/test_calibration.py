"""Isotonic knots, expected calibration error and risk buckets on tiny arrays."""

from __future__ import annotations

import numpy as np
from sklearn.isotonic import IsotonicRegression

from training.calibration import (
    calibration_table,
    expected_calibration_error,
    fit_isotonic,
    risk_buckets,
    select_calibration,
)


def test_knots_reproduce_sklearn_isotonic_predictions():
    rng = np.random.default_rng(0)
    scores = rng.random(300)
    labels = (rng.random(300) < scores**2).astype(int)
    knots = fit_isotonic(scores, labels)
    reference = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip").fit(scores, labels)
    probe = np.r_[-0.5, np.linspace(0, 1, 57), 1.5]
    np.testing.assert_allclose(knots(probe), reference.predict(probe), atol=1e-12)


def test_ece_by_hand():
    p = np.array([0.05, 0.05, 0.95, 0.95])
    y = np.array([0, 1, 1, 1])
    # bin 0: predicted 0.05, observed 0.5 -> 0.45; bin 9: 0.95 vs 1.0 -> 0.05; equal weights
    assert abs(expected_calibration_error(p, y, bins=10) - 0.25) < 1e-12


def test_perfect_calibration_has_zero_ece():
    p = np.array([0.25] * 4 + [0.75] * 4)
    y = np.array([1, 0, 0, 0, 1, 1, 1, 0])
    assert expected_calibration_error(p, y) == 0.0


def test_risk_buckets_are_equal_count_and_ordered():
    p = np.array([0.9, 0.1, 0.5, 0.3, 0.7, 0.2])
    buckets = risk_buckets(p, 3)
    assert np.bincount(buckets).tolist() == [2, 2, 2]
    assert buckets[np.argmax(p)] == 2 and buckets[np.argmin(p)] == 0
    table = calibration_table(p, np.array([1, 0, 0, 0, 1, 0]), 3)
    assert table["rows"].tolist() == [2, 2, 2]
    assert table.loc[2, "observed_rate"] == 1.0


def test_auto_keeps_raw_scores_when_the_rate_shifts_between_halves():
    # Early half: scores say 0.5, outcomes 0.1; late half: outcomes 0.5 again (raw is right).
    scores = np.full(400, 0.5)
    labels = np.r_[np.tile([1] + [0] * 9, 20), np.tile([1, 0], 100)]
    times = np.arange(400)
    calibration, info = select_calibration(scores, labels, times, "auto")
    assert info["chosen"] == "identity"
    assert calibration(np.array([0.5]))[0] == 0.5


def test_auto_uses_isotonic_when_it_helps_later_data():
    rng = np.random.default_rng(1)
    scores = rng.random(2000)
    labels = (rng.random(2000) < scores / 3).astype(int)  # raw scores overpromise 3x
    _, info = select_calibration(scores, labels, np.arange(2000), "auto")
    assert info["chosen"] == "isotonic"
    assert info["holdout_log_loss_isotonic"] < info["holdout_log_loss_raw"]
