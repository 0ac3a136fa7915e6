"""Expected cost per order and the cost-minimising threshold, checked by brute force."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ontime.settings.training import CostMatrix
from training.costs import choose_threshold, cost_per_order

COSTS = CostMatrix(intervention=1.0, missed_delay=4.0, caught_delay=0.5)


def test_cost_per_order_counts_each_cell_once():
    labels = np.array([1, 1, 0, 0])
    flagged = np.array([True, False, True, False])
    # flagged: 2 x 1.0; caught late: 0.5; missed late: 4.0 -> 6.5 over 4 orders
    assert cost_per_order(labels, flagged, COSTS) == 6.5 / 4


def test_threshold_flags_exactly_the_profitable_rows():
    p = np.array([0.9, 0.6, 0.2, 0.1])
    y = np.array([1, 1, 0, 0])
    threshold = choose_threshold(p, y, COSTS)
    assert threshold == 0.6  # flag the two late orders and nothing else


def test_flagging_nothing_can_be_optimal():
    p = np.array([0.3, 0.2])
    y = np.array([0, 0])
    threshold = choose_threshold(p, y, COSTS)
    assert not (p >= threshold).any()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 5), st.booleans()), min_size=1, max_size=30),
)
def test_threshold_is_as_good_as_any_other(pairs):
    p = np.array([a / 5 for a, _ in pairs])
    y = np.array([int(b) for _, b in pairs])
    chosen = cost_per_order(y, p >= choose_threshold(p, y, COSTS), COSTS)
    candidates = [*np.unique(p), np.inf]
    best = min(cost_per_order(y, p >= t, COSTS) for t in candidates)
    assert abs(chosen - best) < 1e-12
