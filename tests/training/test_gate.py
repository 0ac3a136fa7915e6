"""Gate decisions on hand-made summaries: each gate can pass and can fail on its own."""

from __future__ import annotations

import copy

from ontime.settings.training import GateSettings
from training.gate_rules import BLOCK, SHIP, GateReport, decide

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


REVIEWED = GATE.model_copy(update={"reviewed_cases": "cases.parquet"})


def reviewed(late: int = 40, missed: int = 0, error: str | None = None) -> dict:
    if error:
        return {"path": "cases.parquet", "error": error}
    return {
        "path": "cases.parquet",
        "cases": 100,
        "late": late,
        "missed": missed,
        "false_alarms": 3,
        "rejected": 0,
        "in_training_period": 0,
        "missed_cases": [
            f"order_id=O-{i} at 2026-09-01: p=0.050 < threshold 0.080" for i in range(missed)
        ],
    }


def with_reviewed(**kwargs) -> dict:
    return summary() | {"reviewed": reviewed(**kwargs)}


def test_missing_one_reviewed_critical_case_blocks():
    decision, checks = decide(with_reviewed(missed=1), summary(), REVIEWED)
    check = next(c for c in checks if c.name == "reviewed_cases")
    assert decision == BLOCK and not check.passed
    assert "1 of 40 late reviewed critical cases missed (allowed 0)" in check.detail
    assert "order_id=O-0" in check.detail


def test_missing_no_reviewed_case_passes_that_check():
    decision, checks = decide(with_reviewed(missed=0), summary(), REVIEWED)
    assert decision == SHIP
    assert next(c for c in checks if c.name == "reviewed_cases").passed


def test_the_reviewed_set_replaces_the_population_critical_comparison():
    # The reference flags nearly every critical order; the candidate misses 30% of them
    # across the population but none of the reviewed cases: the population check is off.
    candidate = summary(critical_missed=0.30) | {"reviewed": reviewed()}
    decision, checks = decide(candidate, summary(critical_missed=0.0), REVIEWED)
    assert decision == SHIP
    assert "critical_missed_delay" not in {c.name for c in checks}


def test_a_reviewed_set_that_cannot_be_read_or_has_no_late_case_blocks():
    unreadable = summary() | {"reviewed": reviewed(error="reviewed case set not found at x")}
    assert names_failed_with(unreadable, REVIEWED) == {"reviewed_cases"}
    assert names_failed_with(with_reviewed(late=0), REVIEWED) == {"reviewed_cases"}
    assert names_failed_with(summary(), REVIEWED) == {"reviewed_cases"}  # never scored


def names_failed_with(candidate: dict, gate) -> set[str]:
    _, checks = decide(candidate, summary(), gate)
    return {c.name for c in checks if not c.passed}


def test_a_candidate_worse_than_the_baseline_is_told_to_start_from_the_baseline():
    decision, checks = decide(summary(cost=2.26), summary(cost=2.21), GATE)
    report = GateReport(
        decision=decision,
        candidate={"name": "m", "version": "1"},
        reference={"label": "the logistic baseline", "kind": "baseline", "version": None},
        evaluation={"snapshot_id": "s", "split": "test", "rows": 10},
        checks=checks,
    )
    text = report.text()
    assert "does not beat the logistic baseline (cost per order 2.2600 vs 2.2100)" in text
    assert "ontime train --model baseline" in text
    champion = GateReport(**{**report.__dict__, "reference": {"label": "v1", "kind": "model"}})
    assert champion.baseline_advice() is None  # against a champion, no such advice
