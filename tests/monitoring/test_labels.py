"""Delayed-label quality on small frames: coverage, insufficient cells, verdicts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from monitoring.labels import join_labels, read_labels
from monitoring.quality import label_quality
from monitoring.reference import Reference
from ontime.settings.monitoring import MonitoringSettings
from ontime.settings.training import CostMatrix

END = datetime(2026, 7, 1, tzinfo=UTC)
COSTS = CostMatrix()


def served(n=400, seed=0):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0, 1, n)
    return pd.DataFrame(
        {
            "order_id": [f"O-{i}" for i in range(n)],
            "prediction_time": pd.Timestamp(END) - pd.Timedelta(hours=1),
            "probability": p,
            "threshold": 0.5,
            "site": np.where(np.arange(n) < 350, "big", "small"),
            "_truth": rng.uniform(0, 1, n) < p,  # a well-ranked, calibrated model
        }
    )


def labels_for(frame, arrived_share=1.0, flip=False):
    truth = ~frame["_truth"] if flip else frame["_truth"]
    arrived = np.arange(len(frame)) < int(len(frame) * arrived_share)
    return pd.DataFrame(
        {
            "order_id": frame["order_id"],
            "late": truth,
            "known_at": np.where(
                arrived, pd.Timestamp(END), pd.Timestamp(END) + pd.Timedelta(days=9)
            ),
        }
    )


def reference(**kwargs):
    # What this calibrated model earns in expectation at threshold 0.5 with default costs:
    # flag half the orders (3.0 each), miss a quarter of the late half (10.0 each).
    test = {"precision": 0.75, "recall": 0.75, "cost_per_order": 0.5 * 3.0 + 0.125 * 10.0}
    return Reference("m", "1", pd.DataFrame({"x": [1.0]}), np.array([0.5]), test, **kwargs)


def quality(frame, labels, base=None, profile=None):
    arrived = labels[labels["known_at"] <= pd.Timestamp(END)]
    joined = join_labels(frame, arrived, "order_id", "late", "prediction_time")
    settings = MonitoringSettings()
    return label_quality(joined, ["site"], base or reference(), COSTS, 4, settings, END, profile)


def test_good_predictions_are_not_degraded_and_small_cells_are_insufficient():
    frame = served()
    result = quality(frame, labels_for(frame))
    assert result.sufficient and not result.degraded
    cells = {c["value"]: c for c in result.slices["site"]}
    assert cells["big"]["status"] == "ok" and cells["big"]["precision"] is not None
    assert cells["small"]["status"] == "insufficient" and cells["small"]["rows"] == 50
    assert "precision" not in cells["small"]  # kept, counted, not scored
    assert [c["rows"] for c in result.calibration] == [100] * 4


def test_wrong_predictions_are_degraded_with_named_metrics_and_intervals():
    frame = served()
    result = quality(frame, labels_for(frame, flip=True))
    assert result.degraded
    assert {a.message.split()[0] for a in result.alarms} == {"cost_per_order"}  # retrain_on
    assert result.intervals["recall"]["significant"]  # reported, deciding nothing
    cost = result.intervals["cost_per_order"]
    assert cost["significant"] and cost["material"] and cost["value"] > cost["high"]
    assert cost["low"] < cost["expected"] < cost["high"]


def test_good_predictions_sit_inside_their_intervals():
    frame = served()
    result = quality(frame, labels_for(frame))
    for name, band in result.intervals.items():
        assert band["low"] <= band["value"] <= band["high"], name
        assert not band["significant"], name


def test_a_stratum_the_reference_saw_worse_is_judged_by_the_reference_there():
    """Scores say 30% late; in the reference this hour's orders were late twice as often
    as scored. A window of those hours with 60% late is what the reference predicts."""
    from monitoring.profile import MonitoringProfile
    from monitoring.strata import strata, stratum_count

    frame = served(n=600)
    frame["probability"] = 0.3  # nothing flagged: every late order is a missed delay
    frame["_truth"] = np.random.default_rng(4).uniform(0, 1, len(frame)) < 0.6
    checks = MonitoringSettings()
    hour = strata(frame["prediction_time"].iloc[:1], checks.profile)[0]
    observed, expected = (
        np.zeros(stratum_count(checks.profile)),
        np.zeros(stratum_count(checks.profile)),
    )
    observed[hour], expected[hour] = 2000.0, 1000.0  # late twice as often as scored
    profile = MonitoringProfile(
        "m", "1", 1.0, "x", {}, [], {}, {}, [[0]], list(observed), list(expected)
    )
    blind = quality(frame, labels_for(frame))
    like_for_like = quality(frame, labels_for(frame), profile=profile)
    assert blind.degraded  # against the raw scores the window looks much worse
    assert not like_for_like.degraded
    missed = COSTS.missed_delay
    assert like_for_like.intervals["cost_per_order"]["expected"] == pytest.approx(
        0.6 * missed, rel=0.02
    )


def test_partial_labels_give_no_verdict_and_say_why():
    frame = served()
    result = quality(frame, labels_for(frame, arrived_share=0.3, flip=True))
    assert result.coverage == pytest.approx(0.3)
    assert not result.sufficient and not result.degraded
    assert "30%" in result.note


def test_no_labels_yet():
    frame = served()
    result = quality(frame, labels_for(frame, arrived_share=0.0))
    assert result.coverage == 0.0 and "no labels" in result.note


def test_regression_soon_after_a_release_is_flagged_for_rollback():
    frame = served()
    recent = reference(
        promoted_at=END - timedelta(days=2),
        previous_test_metrics={"precision": 0.8, "recall": 0.8, "cost_per_order": 2.5},
    )
    old = reference(
        promoted_at=END - timedelta(days=30),
        previous_test_metrics={"precision": 0.8, "recall": 0.8, "cost_per_order": 2.5},
    )
    assert quality(frame, labels_for(frame, flip=True), recent).regressed_after_release
    assert not quality(frame, labels_for(frame, flip=True), old).regressed_after_release


def test_read_labels_keeps_only_arrived_ones(tmp_path):
    frame = served(10)
    labels_for(frame, arrived_share=0.5).to_parquet(tmp_path / "labels.parquet")
    arrived = read_labels(tmp_path / "labels.parquet", "order_id", "late", "known_at", END)
    assert len(arrived) == 5
    assert read_labels(tmp_path / "absent.parquet", "order_id", "late", "known_at", END) is None
