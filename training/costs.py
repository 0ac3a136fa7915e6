"""Decision costs: the expected cost of acting on a score, and the threshold that minimises it.

Flagging an order costs an intervention whether or not it turns out late; a late order that
nobody flagged costs a missed delay; a late order that was flagged may keep a residual cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ontime.settings.training import CostMatrix, SegmentCosts


@dataclass(frozen=True)
class RowCosts:
    """The cost matrix of each row (segment costs make a missed critical delay dearer)."""

    intervention: np.ndarray
    missed_delay: np.ndarray
    caught_delay: np.ndarray

    def __getitem__(self, mask: np.ndarray) -> RowCosts:
        return RowCosts(self.intervention[mask], self.missed_delay[mask], self.caught_delay[mask])


def row_costs(rows: pd.DataFrame, costs: CostMatrix, segments: SegmentCosts | None) -> RowCosts:
    """Each row's costs: the global ones, overridden by its segment value's when configured.

    A configured column absent from ``rows`` keeps the global costs for every row.
    """
    n = len(rows)
    matrices = [costs] * n
    if segments is not None and segments.column in rows.columns:
        values = rows[segments.column].astype("string").str.lower().fillna("<missing>")
        by_value = {value: segments.for_value(value, costs) for value in values.unique()}
        matrices = [by_value[value] for value in values]
    return RowCosts(
        np.array([m.intervention for m in matrices], dtype=float),
        np.array([m.missed_delay for m in matrices], dtype=float),
        np.array([m.caught_delay for m in matrices], dtype=float),
    )


def cost_per_order(labels: np.ndarray, flagged: np.ndarray, costs: CostMatrix | RowCosts) -> float:
    """Average cost per order of the decisions ``flagged`` given the outcomes ``labels``.

    ``costs`` is one matrix for every order, or one per order (:func:`row_costs`).
    """
    labels = np.asarray(labels, dtype=bool)
    flagged = np.asarray(flagged, dtype=bool)
    if labels.size == 0:
        return float("nan")
    total = np.sum(
        costs.intervention * flagged
        + costs.caught_delay * (labels & flagged)
        + costs.missed_delay * (labels & ~flagged)
    )
    return float(total / labels.size)


def bayes_threshold(costs: CostMatrix) -> float:
    """The threshold that minimises expected cost when probabilities are calibrated.

    Flagging costs ``intervention + p * caught``, not flagging ``p * missed``: flag when
    ``p >= intervention / (missed - caught)``. Used where too few rows remain to choose
    a threshold from outcomes.
    """
    gain = costs.missed_delay - costs.caught_delay
    return float(min(costs.intervention / gain, 1.0 + 1e-9)) if gain > 0 else 1.0 + 1e-9


def choose_threshold(probabilities: np.ndarray, labels: np.ndarray, costs: CostMatrix) -> float:
    """The probability threshold (flag when ``p >= threshold``) with the lowest cost.

    Every distinct score is tried in one pass over the rows sorted by score; on a tie the
    threshold that flags fewer orders wins. If flagging nothing is cheapest, the threshold
    lies just above the highest score.
    """
    scores = np.asarray(probabilities, dtype=float)
    outcomes = np.asarray(labels, dtype=float)
    if scores.size == 0:
        raise ValueError("cannot choose a threshold without scored rows")
    order = np.argsort(-scores, kind="mergesort")
    ranked, late = scores[order], outcomes[order]
    caught = np.r_[0.0, np.cumsum(late)]  # late orders among the top k, k = 0..n
    flagged = np.arange(scores.size + 1, dtype=float)
    cost = (
        costs.intervention * flagged
        + costs.caught_delay * caught
        + costs.missed_delay * (caught[-1] - caught)
    )
    # Only cuts between distinct scores are reachable with a threshold rule.
    reachable = np.r_[True, ranked[:-1] > ranked[1:], True]
    best = int(np.argmin(np.where(reachable, cost, np.inf)))
    if best == 0:
        return float(np.nextafter(ranked[0], np.inf))
    return float(ranked[best - 1])
