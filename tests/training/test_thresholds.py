"""Per-segment costs and thresholds: each segment's threshold follows from its own costs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ontime.settings.training import CostMatrix, SegmentCosts
from training.bundle import Calibration, ModelBundle
from training.costs import bayes_threshold, choose_threshold, cost_per_order, row_costs
from training.thresholds import choose_thresholds

COSTS = CostMatrix(intervention=3.0, missed_delay=10.0, caught_delay=0.0)
CRITICAL = SegmentCosts(column="expedited", values={True: {"missed_delay": 40.0}})


def calibrated_rows(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Calibrated scores (outcomes drawn with exactly those probabilities), half expedited."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.0, 0.6, n)
    y = (rng.random(n) < p).astype(int)
    rows = pd.DataFrame({"expedited": np.arange(n) % 2 == 0, "region": "north"})
    return p, y, rows


def test_a_dearer_miss_lowers_that_segment_s_threshold_only():
    p, y, rows = calibrated_rows(20000, 0)
    chosen = choose_thresholds(p, y, rows, COSTS, CRITICAL, 100, ["expedited"])
    assert chosen.column == "expedited"
    assert chosen.chosen_by == {"true": "outcomes", "false": "outcomes"}
    # With calibrated scores the cost-optimal cut sits near intervention / missed_delay.
    assert chosen.values["true"] == pytest.approx(3 / 40, abs=0.03)
    assert chosen.values["false"] == pytest.approx(3 / 10, abs=0.03)
    assert chosen.default == pytest.approx(3 / 10, abs=0.03)


def test_each_segment_threshold_is_the_cheapest_for_that_segment():
    p, y, rows = calibrated_rows(4000, 1)
    chosen = choose_thresholds(p, y, rows, COSTS, CRITICAL, 100, ["expedited"])
    critical = rows["expedited"].to_numpy()
    costs = CRITICAL.for_value(True, COSTS)
    best = choose_threshold(p[critical], y[critical], costs)
    assert chosen.values["true"] == best


def test_a_segment_too_small_to_learn_from_gets_the_threshold_its_costs_imply():
    p, y, rows = calibrated_rows(300, 2)
    chosen = choose_thresholds(p, y, rows, COSTS, CRITICAL, 1000, ["expedited"])
    assert chosen.chosen_by["true"] == "costs"
    assert chosen.values["true"] == bayes_threshold(CostMatrix(missed_delay=40.0))
    assert chosen.values["true"] == pytest.approx(0.075)


def test_a_segment_column_serving_cannot_see_keeps_one_threshold():
    p, y, rows = calibrated_rows(500, 3)
    chosen = choose_thresholds(p, y, rows, COSTS, CRITICAL, 100, usable_columns=["region"])
    assert chosen.column is None and chosen.values == {}
    assert chosen.metadata() == {"segment_thresholds": None}


def test_the_bundle_picks_each_row_s_threshold_by_its_value():
    bundle = ModelBundle(
        booster=None,
        calibration=Calibration([], []),
        feature_service="s",
        features=["expedited"],
        model_columns=["expedited"],
        categories={},
        threshold=0.3,
        metadata={"segment_thresholds": {"column": "expedited", "values": {"true": 0.08}}},
    )
    assert bundle.threshold_column == "expedited"
    values = [True, np.bool_(False), "TRUE", None, np.nan, "unseen"]
    assert bundle.row_thresholds(values).tolist() == [0.08, 0.3, 0.08, 0.3, 0.3, 0.3]


def test_row_costs_price_each_segment_and_sum_like_the_segments():
    rows = pd.DataFrame({"expedited": [True, False, True, False]})
    costs = row_costs(rows, COSTS, CRITICAL)
    assert costs.missed_delay.tolist() == [40.0, 10.0, 40.0, 10.0]
    labels = np.array([1, 1, 0, 0])
    flagged = np.array([False, False, True, False])
    # missed expedited 40 + missed normal 10 + one intervention 3, over 4 orders
    assert cost_per_order(labels, flagged, costs) == pytest.approx(53 / 4)
    assert row_costs(rows, COSTS, None).missed_delay.tolist() == [10.0] * 4
