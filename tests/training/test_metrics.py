"""Metrics on tiny frames: small slices are reported as insufficient, never dropped."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ontime.settings.training import CostMatrix
from training.metrics import binary_metrics, critical_mask, slice_metrics

COSTS = CostMatrix(intervention=1.0, missed_delay=5.0, caught_delay=0.0)


def test_decision_metrics_by_hand():
    y = np.array([1, 1, 0, 0])
    p = np.array([0.9, 0.2, 0.6, 0.1])
    m = binary_metrics(y, p, threshold=0.5, costs=COSTS)
    assert m["precision"] == 0.5 and m["recall"] == 0.5 and m["missed_delay_rate"] == 0.5
    assert m["flagged_rate"] == 0.5
    assert m["cost_per_order"] == (2 * 1.0 + 1 * 5.0) / 4
    assert m["roc_auc"] == 0.75


def test_one_class_leaves_ranking_metrics_undefined():
    m = binary_metrics(np.array([0, 0]), np.array([0.2, 0.7]), 0.5, COSTS)
    assert m["roc_auc"] is None and m["recall"] is None and m["cost_per_order"] == 0.5


def test_small_cells_are_insufficient_but_listed():
    segments = pd.DataFrame({"region": ["n"] * 6 + ["s"] * 2})
    y = np.array([1, 0, 1, 0, 1, 0, 1, 0])
    p = np.linspace(0.1, 0.9, 8)
    cells = slice_metrics(segments, y, p, 0.5, COSTS, min_count=5)["region"]
    assert [(c["value"], c["rows"], c["status"]) for c in cells] == [
        ("n", 6, "ok"),
        ("s", 2, "insufficient"),
    ]
    assert "cost_per_order" in cells[0] and "cost_per_order" not in cells[1]


def test_critical_mask_matches_yaml_booleans_and_text():
    rows = pd.DataFrame({"expedited": [True, False, True], "tier": ["gold", "gold", "tin"]})
    assert critical_mask(rows, {"expedited": True}).tolist() == [True, False, True]
    assert critical_mask(rows, {"expedited": True, "tier": "gold"}).tolist() == [True, False, False]
