"""Probability calibration: isotonic fit, expected calibration error, risk-bucket table."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # the bundle imports xgboost; monitoring uses this module without it
    from training.bundle import Calibration


def fit_isotonic(scores: np.ndarray, labels: np.ndarray) -> Calibration:
    """A monotone map from raw scores to observed frequencies, stored as knots (no pickle).

    ``np.interp`` over the knots reproduces sklearn's isotonic prediction, clipping outside.
    """
    from sklearn.isotonic import IsotonicRegression

    from training.bundle import Calibration

    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    iso.fit(np.asarray(scores, dtype=float), np.asarray(labels, dtype=float))
    return Calibration(
        x=[float(v) for v in iso.X_thresholds_], y=[float(v) for v in iso.y_thresholds_]
    )


def expected_calibration_error(
    probabilities: np.ndarray, labels: np.ndarray, bins: int = 10
) -> float:
    """Weighted mean |mean predicted - observed rate| over equal-width probability bins."""
    p = np.asarray(probabilities, dtype=float)
    y = np.asarray(labels, dtype=float)
    if p.size == 0:
        return float("nan")
    index = np.minimum((p * bins).astype(int), bins - 1)
    count = np.bincount(index, minlength=bins)
    predicted = np.bincount(index, weights=p, minlength=bins)
    observed = np.bincount(index, weights=y, minlength=bins)
    used = count > 0
    gaps = np.abs(predicted[used] - observed[used]) / count[used]
    return float(np.sum(gaps * count[used]) / p.size)


def risk_buckets(probabilities: np.ndarray, buckets: int) -> np.ndarray:
    """Equal-count buckets by predicted risk, 0 = lowest; the last is the high-risk bucket."""
    p = np.asarray(probabilities, dtype=float)
    rank = np.argsort(np.argsort(p, kind="mergesort"), kind="mergesort")
    return np.minimum(rank * buckets // max(p.size, 1), buckets - 1)


def calibration_table(
    probabilities: np.ndarray, labels: np.ndarray, buckets: int = 10
) -> pd.DataFrame:
    """Per risk bucket: rows, score range, mean predicted, observed rate and their gap."""
    frame = pd.DataFrame(
        {
            "bucket": risk_buckets(probabilities, buckets),
            "p": np.asarray(probabilities, dtype=float),
            "y": np.asarray(labels, dtype=float),
        }
    )
    table = frame.groupby("bucket").agg(
        rows=("p", "size"),
        p_low=("p", "min"),
        p_high=("p", "max"),
        mean_predicted=("p", "mean"),
        observed_rate=("y", "mean"),
    )
    table["gap"] = table["mean_predicted"] - table["observed_rate"]
    return table.reset_index()


def select_calibration(
    scores: np.ndarray, labels: np.ndarray, times: np.ndarray, mode: str
) -> tuple[Calibration, dict]:
    """The calibration map to ship, and why.

    ``isotonic`` fits on all validation rows. ``auto`` first checks, inside validation, that
    isotonic helps on data it was not fitted on: fit on the earlier half (by prediction time),
    compare log loss with the raw scores on the later half. If the outcome rate moves
    between periods, an isotonic map learnt on one period can make the next one worse, and
    then the raw booster probabilities (already log-loss trained) are kept.
    """
    from sklearn.metrics import log_loss

    from training.bundle import Calibration

    scores = np.asarray(scores, dtype=float)
    labels = np.asarray(labels, dtype=int)
    if mode == "none":
        return Calibration(x=[], y=[]), {"mode": mode, "chosen": "identity"}
    if mode == "isotonic":
        return fit_isotonic(scores, labels), {"mode": mode, "chosen": "isotonic"}
    order = np.argsort(np.asarray(times), kind="mergesort")
    early, late = order[: order.size // 2], order[order.size // 2 :]
    probe = fit_isotonic(scores[early], labels[early])
    eps = 1e-6
    raw_loss = log_loss(labels[late], np.clip(scores[late], eps, 1 - eps), labels=[0, 1])
    iso_loss = log_loss(labels[late], np.clip(probe(scores[late]), eps, 1 - eps), labels=[0, 1])
    info = {"mode": mode, "holdout_log_loss_raw": raw_loss, "holdout_log_loss_isotonic": iso_loss}
    if iso_loss < raw_loss:
        return fit_isotonic(scores, labels), {**info, "chosen": "isotonic"}
    return Calibration(x=[], y=[]), {**info, "chosen": "identity"}
