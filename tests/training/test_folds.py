"""Rolling-origin folds on tiny frames: expanding, in time order, groups kept whole."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ontime.errors import OntimeError
from training.crossfit import cross_fit
from training.folds import Fold, rolling_origin_folds


def frame(days: list[int], groups: list[str]) -> pd.DataFrame:
    times = pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(days, unit="D")
    return pd.DataFrame({"t": times, "g": groups})


def test_folds_expand_and_the_last_holds_out_validation():
    train = frame(list(range(9)), [f"o{i}" for i in range(9)])
    validation = frame([9, 10], ["o9", "o10"])
    folds = rolling_origin_folds(train, validation, "t", "g", n_folds=4)
    assert [f.number for f in folds] == [1, 2, 3, 4]
    assert [len(f.fit) for f in folds] == [3, 5, 7, 9]  # TimeSeriesSplit(3) over 9 starts
    assert [len(f.holdout) for f in folds] == [2, 2, 2, 2]
    assert folds[-1].holdout.tolist() == [9, 10]  # positions into train + validation
    every = pd.concat([train, validation], ignore_index=True)
    for fold in folds:
        # Every fit row comes before every held-out row: a fold never sees its future.
        assert every["t"].iloc[fold.fit].max() < every["t"].iloc[fold.holdout].min()
        assert not set(fold.fit) & set(fold.holdout)


def test_a_label_group_stays_in_the_window_of_its_first_ask():
    # Order "a" is asked on day 0 and again on day 7: both asks are fitted together.
    train = frame([0, 1, 2, 3, 4, 5, 6, 7], ["a", "b", "c", "d", "e", "f", "g", "a"])
    validation = frame([8], ["h"])
    folds = rolling_origin_folds(train, validation, "t", "g", n_folds=3)
    for fold in folds[:-1]:
        fitted = set(train["g"].iloc[fold.fit])
        held = set(train["g"].iloc[fold.holdout])
        assert "a" in fitted and "a" not in held
        assert not fitted & held


def test_one_fold_is_train_against_validation():
    train, validation = frame([0, 1, 2], ["a", "b", "c"]), frame([3], ["d"])
    (fold,) = rolling_origin_folds(train, validation, "t", "g", n_folds=1)
    assert fold.fit.tolist() == [0, 1, 2] and fold.holdout.tolist() == [3]


def test_two_folds_cut_train_in_half_then_hold_out_validation():
    train = frame(list(range(6)), [f"o{i}" for i in range(6)])
    validation = frame([6, 7], ["o6", "o7"])
    first, last = rolling_origin_folds(train, validation, "t", "g", n_folds=2)
    assert first.fit.tolist() == [0, 1, 2] and first.holdout.tolist() == [3, 4, 5]
    assert last.fit.tolist() == list(range(6)) and last.holdout.tolist() == [6, 7]


def test_too_few_start_times_for_the_folds_is_one_clear_error():
    train, validation = frame([0, 0, 1], ["a", "b", "c"]), frame([3], ["d"])
    with pytest.raises(OntimeError, match="too few for 4 rolling folds"):
        rolling_origin_folds(train, validation, "t", "g", n_folds=4)


def test_cross_fit_places_each_fold_s_scores_on_its_held_out_rows():
    folds = [Fold(1, np.array([0, 1]), np.array([2, 3])), Fold(2, np.arange(4), np.array([4]))]

    def fit_and_score(fold: Fold) -> tuple[np.ndarray, dict]:
        # A "model" that scores the mean position it was fitted on.
        return np.full(len(fold.holdout), fold.fit.mean()), {"fitted": len(fold.fit)}

    oof = cross_fit(folds, fit_and_score, rows=5)
    assert oof.fold_of.tolist() == [0, 0, 1, 1, 2]
    assert np.isnan(oof.raw[:2]).all() and oof.raw[2:].tolist() == [0.5, 0.5, 1.5]
    assert oof.folds[1] == {"fold": 2, "fit_rows": 4, "holdout_rows": 1, "fitted": 4}
