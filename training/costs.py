"""Decision costs: the expected cost of acting on a score, and the threshold that minimises it.

Flagging an order costs an intervention whether or not it turns out late; a late order that
nobody flagged costs a missed delay; a late order that was flagged may keep a residual cost.
"""

from __future__ import annotations

import numpy as np

from ontime.settings.training import CostMatrix


def cost_per_order(labels: np.ndarray, flagged: np.ndarray, costs: CostMatrix) -> float:
    """Average cost per order of the decisions ``flagged`` given the outcomes ``labels``."""
    labels = np.asarray(labels, dtype=bool)
    flagged = np.asarray(flagged, dtype=bool)
    if labels.size == 0:
        return float("nan")
    total = (
        costs.intervention * flagged.sum()
        + costs.caught_delay * (labels & flagged).sum()
        + costs.missed_delay * (labels & ~flagged).sum()
    )
    return float(total / labels.size)


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
