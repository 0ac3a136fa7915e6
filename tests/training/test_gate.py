"""Gate decisions on hand-made summaries: each gate can pass and can fail on its own."""

from __future__ import annotations

import copy

from ontime.settings.training import GateSettings
from training.gate_rules import BLOCK, SHIP, decide

GATE = GateSettings(
    critical_segment={"expedited": True},
    critical_missed_rate_tolerance=0.02,
    cost_tolerance=0.0,
    top_bucket_tolerance=0.05,
    slice_cost_tolerance=0.10,
    slice_auc_tolerance=0.03,
)


def cell(value: str, cost: float, auc: float | None = 0.75, status: str = "ok") -> dict:
    return {"value": value, "rows": 500, "status": status, "cost_per_order": cost, "roc_auc": auc}


def summary(*, cost=2.0, critical_missed=0.10, sufficient=True, top_gap=0.01, cells=None) -> dict:
    return {
        "metrics": {"cost_per_order": cost},
        "critical": {
            "selector": {"expedited": "True"},
            "rows": 400 if sufficient else 10,
            "sufficient": sufficient,
            "metrics": {"missed_delay_rate": critical_missed},
        },
        "top_bucket": {
            "rows": 100,
            "mean_predicted": 0.6,
            "observed_rate": 0.6 - top_gap,
            "gap": top_gap,
        },
        "slices": {"region": cells or [cell("north", 2.0), cell("south", 2.0)]},
    }


def names_failed(candidate: dict, reference: dict) -> set[str]:
    decision, checks = decide(candidate, reference, GATE)
    failed = {c.name for c in checks if not c.passed}
    assert (decision == SHIP) == (not failed)
    return failed


def test_equal_models_ship():
    assert names_failed(summary(), summary()) == set()


def test_higher_cost_blocks():
    assert names_failed(summary(cost=2.01), summary(cost=2.0)) == {"expected_cost"}


def test_more_missed_delays_in_the_critical_slice_block():
    failed = names_failed(summary(critical_missed=0.13), summary(critical_missed=0.10))
    assert failed == {"critical_missed_delay"}
    assert names_failed(summary(critical_missed=0.115), summary(critical_missed=0.10)) == set()


def test_a_critical_slice_too_small_to_judge_blocks():
    assert names_failed(summary(sufficient=False), summary()) == {"critical_missed_delay"}


def test_overpromising_top_bucket_blocks_either_way():
    assert names_failed(summary(top_gap=0.08), summary()) == {"top_bucket_calibration"}
    assert names_failed(summary(top_gap=-0.08), summary()) == {"top_bucket_calibration"}


def test_a_slice_regression_hidden_by_the_aggregate_blocks():
    candidate = summary(cells=[cell("north", 2.4), cell("south", 1.6)])  # same average
    decision, checks = decide(candidate, summary(), GATE)
    assert decision == BLOCK
    failing = [c for c in checks if not c.passed]
    assert [c.name for c in failing] == ["slice:region"]
    assert "north" in failing[0].detail and "south" not in failing[0].detail


def test_slice_auc_drop_blocks_and_insufficient_cells_are_skipped():
    candidate = summary(
        cells=[cell("north", 2.0, auc=0.70), cell("tiny", 9.0, status="insufficient")]
    )
    reference = summary(
        cells=[cell("north", 2.0, auc=0.75), cell("tiny", 1.0, status="insufficient")]
    )
    decision, checks = decide(candidate, reference, GATE)
    detail = next(c.detail for c in checks if c.name == "slice:region")
    assert decision == BLOCK
    assert "ROC AUC" in detail and "1 insufficient" in detail


def test_every_reason_is_reported_not_just_the_first():
    worse = summary(
        cost=3.0, critical_missed=0.5, top_gap=0.2, cells=[cell("north", 5.0), cell("south", 5.0)]
    )
    assert names_failed(worse, summary()) == {
        "expected_cost",
        "critical_missed_delay",
        "top_bucket_calibration",
        "slice:region",
    }


def test_decide_does_not_mutate_its_inputs():
    candidate, reference = summary(), summary()
    before = copy.deepcopy((candidate, reference))
    decide(candidate, reference, GATE)
    assert (candidate, reference) == before


def test_without_a_configured_critical_slice_the_check_says_so():
    unconfigured = GATE.model_copy(update={"critical_segment": {}})
    decision, checks = decide(summary(critical_missed=0.9), summary(), unconfigured)
    check = next(c for c in checks if c.name == "critical_missed_delay")
    assert decision == SHIP and "no critical segment configured" in check.detail
