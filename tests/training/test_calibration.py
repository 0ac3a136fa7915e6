"""Calibration maps (isotonic, sigmoid), out-of-fold fitting, ECE, risk buckets: tiny arrays."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from training.calibration import (
    calibration_table,
    expected_calibration_error,
    fit_isotonic,
    fit_sigmoid,
    forward_probabilities,
    out_of_fold_calibration,
    risk_buckets,
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


def test_sigmoid_knots_reproduce_platt_scaling():
    rng = np.random.default_rng(2)
    scores = rng.random(3000)
    labels = (rng.random(3000) < scores**1.5).astype(int)
    knots = fit_sigmoid(scores, labels)
    logit = np.log(scores / (1 - scores))[:, None]
    platt = LogisticRegression(C=1e6).fit(logit, labels)
    probe = np.linspace(0.01, 0.99, 99)
    expected = platt.predict_proba(np.log(probe / (1 - probe))[:, None])[:, 1]
    np.testing.assert_allclose(knots(probe), expected, atol=2e-4)
    assert np.all(np.diff(knots(probe)) >= 0)  # a sigmoid never reorders scores


def test_out_of_fold_isotonic_pools_every_held_out_window():
    # Three windows whose outcome rates differ (0.1, 0.5, 0.3) at the same raw score: the
    # map fitted on the pooled windows predicts their pooled rate, not one window's.
    scores = np.full(300, 0.5)
    labels = np.r_[
        np.tile([1] + [0] * 9, 10), np.tile([1, 0], 50), np.tile([1, 0, 0] * 3 + [1], 10)
    ]
    fold_of = np.repeat([1, 2, 3], 100)
    calibration, info = out_of_fold_calibration(scores, labels, fold_of, "isotonic")
    assert info["chosen"] == "isotonic" and info["fitted_on_rows"] == 300
    assert calibration(np.array([0.5]))[0] == pytest.approx(labels.mean())


def test_rows_never_held_out_do_not_shape_the_map():
    scores = np.r_[np.full(100, 0.5), np.full(100, 0.5)]
    labels = np.r_[np.ones(100, int), np.tile([1, 0, 0, 0], 25)]
    fold_of = np.r_[np.zeros(100, int), np.ones(100, int)]  # fold 0: only ever fitted on
    calibration, _ = out_of_fold_calibration(scores, labels, fold_of, "isotonic")
    assert calibration(np.array([0.5]))[0] == pytest.approx(0.25)


def test_auto_chooses_by_log_loss_on_each_next_fold():
    rng = np.random.default_rng(1)
    scores = rng.random(4000)
    fold_of = np.repeat([1, 2, 3, 4], 1000)
    honest = (rng.random(4000) < scores).astype(int)  # raw scores already calibrated
    _, info = out_of_fold_calibration(scores, honest, fold_of, "auto")
    losses = info["forward_log_loss"]
    assert info["chosen"] == min(losses, key=losses.get)
    overpromise = (rng.random(4000) < scores / 3).astype(int)  # raw scores say 3x too much
    _, info = out_of_fold_calibration(scores, overpromise, fold_of, "auto")
    assert info["chosen"] != "identity"
    assert info["forward_log_loss"][info["chosen"]] < info["forward_log_loss"]["identity"]


def test_none_ships_the_identity_map():
    scores = np.array([0.2, 0.8, 0.4, 0.6])
    calibration, info = out_of_fold_calibration(
        scores, np.array([0, 1, 1, 0]), np.ones(4, int), "none"
    )
    assert info["chosen"] == "identity"
    np.testing.assert_array_equal(calibration(scores), scores)


def test_forward_probabilities_use_only_earlier_folds():
    scores = np.full(300, 0.5)
    labels = np.r_[np.zeros(100, int), np.ones(100, int), np.zeros(100, int)]
    fold_of = np.repeat([1, 2, 3], 100)
    forward = forward_probabilities(scores, labels, fold_of, "isotonic")
    assert np.isnan(forward[:100]).all()  # fold 1 has no past to fit on
    assert forward[100:200] == pytest.approx(0.0)  # fitted on fold 1 alone
    assert forward[200:] == pytest.approx(0.5)  # fitted on folds 1 and 2
