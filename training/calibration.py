"""Probability calibration: isotonic and sigmoid maps fitted on out-of-fold scores, expected
calibration error, risk-bucket table."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # the bundle imports xgboost; monitoring uses this module without it
    from training.bundle import Calibration

# Knots of a sigmoid map, evenly spaced in log-odds (scores from about 6e-6 to 1 - 6e-6).
SIGMOID_GRID = np.linspace(-12.0, 12.0, 481)
MAPS = ("identity", "sigmoid", "isotonic")


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


def fit_sigmoid(scores: np.ndarray, labels: np.ndarray) -> Calibration:
    """Platt scaling on the log-odds of the raw scores, stored as dense knots (no pickle).

    A logistic regression on ``logit(score)`` can shift and stretch the scores but never
    reorder them; knots evenly spaced in log-odds keep ``np.interp`` within ~1e-4 of it.
    """
    from sklearn.linear_model import LogisticRegression

    from training.bundle import Calibration

    model = LogisticRegression(C=1e6)  # practically unregularised: two parameters, many rows
    model.fit(_logit(scores)[:, None], np.asarray(labels, dtype=int))
    x = 1.0 / (1.0 + np.exp(-SIGMOID_GRID))
    y = model.predict_proba(_logit(x)[:, None])[:, 1]
    return Calibration(x=[float(v) for v in x], y=[float(v) for v in y])


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), 1e-7, 1 - 1e-7)
    return np.log(p / (1 - p))


def fit_map(name: str, scores: np.ndarray, labels: np.ndarray) -> Calibration:
    """A calibration map by name: ``identity``, ``sigmoid`` or ``isotonic``."""
    from training.bundle import Calibration

    if name == "identity":
        return Calibration(x=[], y=[])
    if name == "sigmoid":
        return fit_sigmoid(scores, labels)
    return fit_isotonic(scores, labels)


def out_of_fold_calibration(
    scores: np.ndarray, labels: np.ndarray, fold_of: np.ndarray, mode: str
) -> tuple[Calibration, dict]:
    """The calibration map to ship, fitted on every fold's held-out scores, and why.

    Pooling the held-out windows of several folds means no single unrepresentative window
    (a low base-rate week, say) decides the map. ``auto`` picks the map whose forward
    log loss is lowest: fitted on folds 1..k-1, scored on fold k, for every k >= 2; with
    fewer than two folds there is nothing to compare on and isotonic is used.
    """
    from sklearn.metrics import log_loss

    scores = np.asarray(scores, dtype=float)
    labels = np.asarray(labels, dtype=int)
    held = fold_of > 0
    chosen = {"none": "identity"}.get(mode, mode)
    info: dict = {"mode": mode, "fitted_on_rows": int(held.sum())}
    folds = sorted(set(fold_of[held].tolist()))
    if mode == "auto":
        losses = {name: 0.0 for name in MAPS}
        if len(folds) < 2:
            chosen, info["note"] = "isotonic", "one fold: nothing to compare maps on"
        else:
            for number in folds[1:]:
                past, now = held & (fold_of < number), fold_of == number
                for name in MAPS:
                    probe = fit_map(name, scores[past], labels[past])
                    p = np.clip(probe(scores[now]), 1e-6, 1 - 1e-6)
                    losses[name] += log_loss(labels[now], p, labels=[0, 1]) * now.sum()
            rows = sum(int((fold_of == n).sum()) for n in folds[1:])
            info["forward_log_loss"] = {name: loss / rows for name, loss in losses.items()}
            chosen = min(MAPS, key=lambda name: losses[name])
    info["chosen"] = chosen
    return fit_map(chosen, scores[held], labels[held]), info


def forward_probabilities(
    scores: np.ndarray, labels: np.ndarray, fold_of: np.ndarray, name: str
) -> np.ndarray:
    """Each fold's scores through the map ``name`` fitted on the earlier folds only (NaN
    for the first fold): how the map would have done on a window it had not seen."""
    out = np.full(len(scores), np.nan)
    held = fold_of > 0
    for number in sorted(set(fold_of[held].tolist()))[1:]:
        past, now = held & (fold_of < number), fold_of == number
        out[now] = fit_map(name, scores[past], labels[past])(scores[now])
    return np.clip(out, 0.0, 1.0)
