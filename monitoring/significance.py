"""Label quality by significance: the window's realised metrics against what the reference
predicts for *these* rows.

The champion's calibrated scores say how many of the window's orders should turn out late.
The reference corrects them per stratum of the clock (its observed positives over its
summed scores, shrunk toward 1), so weekday nights are expected to look like the
reference's weekday nights. Expected cost, precision and recall and their standard errors
follow from independent outcomes with those probabilities; the standardised error ``z``
(positive = worse) is what the profile calibrates on clean windows, because outcomes within
a window are not independent (a congested day makes many parcels late at once).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ontime.settings.training import CostMatrix
from training.costs import cost_per_order

METRICS = ("cost_per_order", "precision", "recall")


@dataclass(frozen=True)
class Expected:
    """A metric's realised value, its expectation, standard error and standardised error."""

    value: float | None
    expected: float | None
    se: float | None
    z: float | None  # (realised - expected) / se, signed so that positive is worse

    def interval(self, width: float) -> tuple[float | None, float | None]:
        """``expected -+ width * se``: the band a clean window's value stays in."""
        if self.expected is None or self.se is None:
            return None, None
        return self.expected - width * self.se, self.expected + width * self.se


def calibration_ratios(observed: np.ndarray, expected: np.ndarray, prior: float) -> np.ndarray:
    """Per stratum: how many positives the reference saw per unit of summed score, shrunk
    toward 1 with ``prior`` pseudo-positives (a sparse stratum keeps the scores as they are)."""
    return (np.asarray(observed) + prior) / (np.asarray(expected) + prior)


def expectations(
    flagged: np.ndarray, probabilities: np.ndarray, costs: CostMatrix
) -> dict[str, tuple[float | None, float | None]]:
    """(expected value, standard error) of cost per order, precision and recall when each
    row turns out late with its probability: no label needed (confidence-based estimation)."""
    f = np.asarray(flagged, dtype=bool)
    q = np.clip(np.asarray(probabilities, dtype="float64"), 0.0, 1.0)
    n = q.size
    if n == 0:
        return dict.fromkeys(METRICS, (None, None))
    variance = q * (1 - q)
    # Cost per order: a flagged order costs the intervention plus, when late, the caught
    # delay; an unflagged late order costs the missed delay.
    late_cost = np.where(f, costs.caught_delay, costs.missed_delay)
    found = {
        "cost_per_order": (
            float(np.mean(costs.intervention * f + q * late_cost)),
            float(np.sqrt(np.sum(variance * late_cost**2)) / n),
        )
    }
    caught, caught_var = float(q[f].sum()), float(variance[f].sum())
    flagged_n = int(f.sum())
    found["precision"] = (
        (caught / flagged_n, float(np.sqrt(caught_var)) / flagged_n) if flagged_n else (None, None)
    )
    missed, missed_var = float(q[~f].sum()), float(variance[~f].sum())
    if caught + missed > 0:
        # Delta method on caught / (caught + missed), two independent sums.
        se = np.sqrt(missed**2 * caught_var + caught**2 * missed_var) / (caught + missed) ** 2
        found["recall"] = (caught / (caught + missed), float(se))
    else:
        found["recall"] = (None, None)
    return found


def expected_quality(
    labels: np.ndarray,
    scores: np.ndarray,
    flagged: np.ndarray,
    probabilities: np.ndarray,
    costs: CostMatrix,
) -> dict[str, Expected]:
    """Realised and expected cost per order, precision and recall of one window.

    ``probabilities`` are the chances of a late outcome the reference implies for each row
    (scores corrected per stratum); ``scores`` and ``flagged`` are what was served.
    """
    y = np.asarray(labels, dtype=bool)
    f = np.asarray(flagged, dtype=bool)
    if y.size == 0:
        return {name: Expected(None, None, None, None) for name in METRICS}
    expected = expectations(f, probabilities, costs)
    realised = {
        "cost_per_order": cost_per_order(y, f, costs),
        "precision": float(y[f].mean()) if f.any() else None,
        "recall": float(f[y].mean()) if y.any() else None,
    }
    found = {}
    for name in METRICS:
        mean, se = expected[name]
        value = realised[name]
        if value is None or mean is None:
            found[name] = Expected(None, None, None, None)
            continue
        worse_by = value - mean if name == "cost_per_order" else mean - value
        found[name] = Expected(value, mean, se, _z(worse_by, se))
    return found


def _z(worse_by: float, se: float) -> float | None:
    """Standardised error; None when the standard error is zero (nothing was uncertain)."""
    return float(worse_by / se) if se > 0 else None
