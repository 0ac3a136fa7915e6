"""Decision thresholds that follow from costs: one per segment value, the global one as fallback.

With segment costs configured (e.g. a missed expedited delay costs three times more), each
value of the segment column gets the threshold that minimises *its* expected cost on the
out-of-fold calibrated scores. A value with too few rows to choose from outcomes gets the
threshold its costs imply for calibrated probabilities (``costs.bayes_threshold``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ontime.settings.training import CostMatrix, SegmentCosts
from training.bundle import SEGMENT_THRESHOLDS, segment_key
from training.costs import bayes_threshold, choose_threshold

log = logging.getLogger(__name__)


@dataclass
class Thresholds:
    """The global threshold and, when segment costs are set, one per segment value."""

    default: float
    column: str | None = None
    values: dict[str, float] = field(default_factory=dict)
    chosen_by: dict[str, str] = field(default_factory=dict)  # value -> "outcomes" | "costs"

    def metadata(self) -> dict:
        """Bundle metadata entries (read back by ``ModelBundle.row_thresholds``)."""
        if self.column is None:
            return {SEGMENT_THRESHOLDS: None}
        return {
            SEGMENT_THRESHOLDS: {
                "column": self.column,
                "values": dict(self.values),
                "chosen_by": dict(self.chosen_by),
            }
        }


def segment_keys(values: Sequence | pd.Series) -> np.ndarray:
    """Each value as thresholds are keyed (the bundle's rule, so serving agrees)."""
    return np.array([segment_key(v) for v in values], dtype=object)


def choose_thresholds(
    probabilities: np.ndarray,
    labels: np.ndarray,
    rows: pd.DataFrame,
    costs: CostMatrix,
    segments: SegmentCosts | None,
    min_rows: int,
    usable_columns: Sequence[str],
) -> Thresholds:
    """The cost-minimising global threshold, plus one per value of the segment column.

    ``usable_columns`` are the columns serving has per row (model features, entity keys);
    a segment column outside them cannot pick a threshold at serving time, so it is skipped.
    """
    p = np.asarray(probabilities, dtype=float)
    y = np.asarray(labels, dtype=int)
    thresholds = Thresholds(default=choose_threshold(p, y, costs))
    if segments is None:
        return thresholds
    column = segments.column
    if column not in usable_columns or column not in rows.columns:
        log.warning(
            "segment_costs column '%s' is not a model feature or entity key: one global "
            "threshold is used",
            column,
        )
        return thresholds
    keys = segment_keys(rows[column])
    wanted = {segment_key(value) for value in segments.values}
    thresholds.column = column
    for key in sorted(set(keys) | wanted):
        mask = keys == key
        matrix = segments.for_value(key, costs)
        if mask.sum() >= min_rows:
            thresholds.values[key] = choose_threshold(p[mask], y[mask], matrix)
            thresholds.chosen_by[key] = "outcomes"
        else:
            thresholds.values[key] = bayes_threshold(matrix)
            thresholds.chosen_by[key] = "costs"
    return thresholds
