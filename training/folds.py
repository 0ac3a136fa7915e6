"""Rolling-origin (expanding-window) folds over the development period: train + validation.

Fold k fits on everything before its holdout window and holds out the next window, so every
holdout prediction comes from a model that saw only the past. The last fold holds out the
configured validation split (fitted on the whole train split); the earlier folds cut the
train split with scikit-learn's ``TimeSeriesSplit``. Rows are cut by label group (e.g. one
order asked about three times), in the order of each group's first prediction time, so no
outcome is fitted in one window and held out in another.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ontime.errors import OntimeError


@dataclass(frozen=True)
class Fold:
    """Row positions (into the development frame) to fit on and to hold out."""

    number: int
    fit: np.ndarray
    holdout: np.ndarray


def _group_starts(rows: pd.DataFrame, time_column: str, group_key: str | None) -> pd.Series:
    times = pd.to_datetime(rows[time_column], utc=True)
    if group_key is None or group_key not in rows.columns:
        return times
    return times.groupby(rows[group_key].to_numpy()).transform("min")


def rolling_origin_folds(
    train: pd.DataFrame,
    validation: pd.DataFrame,
    time_column: str,
    group_key: str | None,
    n_folds: int,
) -> list[Fold]:
    """``n_folds`` expanding-window folds over ``train`` followed by ``validation``.

    Positions index ``pd.concat([train, validation])``. The last fold fits on all of train
    and holds out validation; the ``n_folds - 1`` earlier ones split train in time order.
    """
    if n_folds < 1:
        raise OntimeError(f"training.folds must be at least 1, got {n_folds}")
    folds: list[Fold] = []
    if n_folds > 1:
        starts = _group_starts(train, time_column, group_key)
        # Cut between distinct group starts: one label group never straddles two windows.
        order = np.sort(starts.unique())
        if order.size < n_folds:
            raise OntimeError(
                f"the train split has {order.size} distinct start times, too few for "
                f"{n_folds} rolling folds"
            )
        start_values = starts.to_numpy()
        for number, (fit, hold) in enumerate(_splits(order.size, n_folds - 1), 1):
            boundary, end = order[fit[-1]], order[hold[-1]]
            fit_rows = np.flatnonzero(start_values <= boundary)
            hold_rows = np.flatnonzero((start_values > boundary) & (start_values <= end))
            folds.append(Fold(number, fit_rows, hold_rows))
    everything = np.arange(len(train))
    folds.append(Fold(n_folds, everything, np.arange(len(train), len(train) + len(validation))))
    return folds


def _splits(size: int, n_splits: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Expanding-window (fit, holdout) positions into ``size`` ordered items.

    scikit-learn's ``TimeSeriesSplit`` needs two splits or more; one split fits on the first
    half and holds out the second."""
    from sklearn.model_selection import TimeSeriesSplit

    if n_splits == 1:
        half = size // 2
        return [(np.arange(half), np.arange(half, size))]
    return list(TimeSeriesSplit(n_splits).split(np.arange(size)))
