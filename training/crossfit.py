"""Cross-fitting over rolling-origin folds, then what is learnt from the held-out scores.

Any model (the XGBoost model, the logistic baseline) is fitted once per fold and scores that
fold's held-out window. The pooled out-of-fold scores then give the calibration map, the
cost-derived thresholds and a per-fold report, so both models are post-processed the same
way and a gap between them is the model's, not the post-processing's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ontime.contract import FeatureContract
from ontime.errors import OntimeError
from ontime.settings.training import TrainingSettings
from training.bundle import Calibration
from training.calibration import (
    expected_calibration_error,
    forward_probabilities,
    out_of_fold_calibration,
)
from training.datatests import check_both_classes
from training.folds import Fold, rolling_origin_folds
from training.frames import Prepared, prepare
from training.split import TimeSplit, row_range
from training.thresholds import Thresholds, choose_thresholds

log = logging.getLogger(__name__)


@dataclass
class OutOfFold:
    """Held-out raw scores of the development rows and the fold that produced each."""

    raw: np.ndarray  # NaN where a row was never held out (the first fold's fit window)
    fold_of: np.ndarray  # fold number per row; 0 = never held out
    folds: list[dict]  # per fold: sizes plus what the fitter reported (e.g. best_iteration)


@dataclass
class PostProcessing:
    """Learnt from the out-of-fold scores: calibration, thresholds, per-fold quality."""

    calibration: Calibration
    calibration_info: dict
    thresholds: Thresholds
    fold_report: list[dict]

    def metadata(self) -> dict:
        """What a bundle records of its cross-fitting (reports, the gate and monitoring)."""
        return {
            "calibration_choice": self.calibration_info,
            "folds": self.fold_report,
            **self.thresholds.metadata(),
        }


def cross_fit(
    folds: Sequence[Fold], fit_and_score: Callable[[Fold], tuple[np.ndarray, dict]], rows: int
) -> OutOfFold:
    """Fit on each fold's past, score its held-out window; ``fit_and_score`` returns the
    held-out raw scores and notes for the report."""
    raw = np.full(rows, np.nan)
    fold_of = np.zeros(rows, dtype=int)
    reports = []
    for fold in folds:
        scores, notes = fit_and_score(fold)
        raw[fold.holdout] = scores
        fold_of[fold.holdout] = fold.number
        reports.append(
            {"fold": fold.number, "fit_rows": len(fold.fit), "holdout_rows": len(fold.holdout)}
            | notes
        )
        log.info("fold %s: %s", fold.number, reports[-1])
    return OutOfFold(raw=raw, fold_of=fold_of, folds=reports)


def post_process(
    oof: OutOfFold,
    labels: np.ndarray,
    rows: pd.DataFrame,
    settings: TrainingSettings,
    usable_columns: Sequence[str],
) -> PostProcessing:
    """Calibration on the pooled held-out scores, thresholds on the calibrated ones, and
    per fold: base rate, ROC AUC and ECE raw, with the shipped map, and forward."""
    held = oof.fold_of > 0
    calibration, info = out_of_fold_calibration(oof.raw, labels, oof.fold_of, settings.calibration)
    calibrated = np.clip(calibration(oof.raw), 0.0, 1.0)
    thresholds = choose_thresholds(
        calibrated[held],
        labels[held],
        rows.iloc[np.flatnonzero(held)].reset_index(drop=True),
        settings.costs,
        settings.segment_costs,
        settings.min_slice_count,
        usable_columns,
    )
    forward = forward_probabilities(oof.raw, labels, oof.fold_of, info["chosen"])
    report = [
        fold | _fold_quality(oof, labels, calibrated, forward, fold["fold"], settings)
        for fold in oof.folds
    ]
    return PostProcessing(
        calibration=calibration,
        calibration_info=info,
        thresholds=thresholds,
        fold_report=report,
    )


def _fold_quality(
    oof: OutOfFold,
    labels: np.ndarray,
    calibrated: np.ndarray,
    forward: np.ndarray,
    number: int,
    settings: TrainingSettings,
) -> dict:
    from sklearn.metrics import roc_auc_score

    mask = oof.fold_of == number
    y = labels[mask]
    bins = settings.calibration_bins
    both = 0 < y.sum() < y.size
    ahead = forward[mask]
    return {
        "base_rate": float(y.mean()) if y.size else None,
        "mean_calibrated": float(calibrated[mask].mean()) if y.size else None,
        "roc_auc": float(roc_auc_score(y, oof.raw[mask])) if both else None,
        "ece_raw": expected_calibration_error(oof.raw[mask], y, bins) if y.size else None,
        "ece": expected_calibration_error(calibrated[mask], y, bins) if y.size else None,
        # The map fitted on earlier folds only: how calibration held up on an unseen window.
        "ece_forward": None
        if np.isnan(ahead).all()
        else expected_calibration_error(ahead, y, bins),
    }


@dataclass
class Development:
    """The prepared splits and the development rows (train, then validation) with folds."""

    parts: dict[str, Prepared]  # train, validation, test
    frame: pd.DataFrame  # model columns of the development rows
    labels: np.ndarray
    rows: pd.DataFrame  # their raw rows (keys, time, segments)
    folds: list[Fold]


def development(
    split: TimeSplit,
    contract: FeatureContract,
    features: Sequence[str],
    categories: Mapping[str, Sequence[str]],
    label: str,
    time_column: str,
    group_key: str | None,
    n_folds: int,
) -> Development:
    """Apply the contract to every split and cut the accepted train + validation rows into
    rolling-origin folds (so fold positions index rows the model really sees).

    The development frame and rows are held once: the train and validation parts become
    views of them (and the rows a view of the split's when the contract dropped none)."""
    parts = {
        name: prepare(split.part(name), contract, features, categories, label)
        for name in ("train", "validation", "test")
    }
    for name in ("train", "validation"):
        if parts[name].frame.empty:
            raise OntimeError(f"the feature contract rejected every row of the {name} split")
        check_both_classes(parts[name].rows[label], label, name)
    train, validation = parts["train"], parts["validation"]
    folds = rolling_origin_folds(train.rows, validation.rows, time_column, group_key, n_folds)
    frame = pd.concat([train.frame, validation.frame], ignore_index=True)
    if train.rejected == validation.rejected == 0:
        rows = split.development_rows()
    else:
        rows = pd.concat([train.rows, validation.rows], ignore_index=True)
    cut, end = len(train.rows), len(rows)
    parts["train"] = replace(train, frame=row_range(frame, 0, cut), rows=row_range(rows, 0, cut))
    parts["validation"] = replace(
        validation, frame=row_range(frame, cut, end), rows=row_range(rows, cut, end)
    )
    return Development(
        parts=parts,
        frame=frame,
        labels=np.r_[train.labels, validation.labels],
        rows=rows,
        folds=folds,
    )
