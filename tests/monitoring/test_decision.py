"""The router: one action, strict precedence, evidence attached."""

from __future__ import annotations

import pytest

from monitoring.decision import PRECEDENCE, decide
from monitoring.findings import Alarm, Signal

HEALTH = Alarm("health", "null_rate", "f1", 0.4, 0.05, "f1 is null")
PARITY = Alarm("parity", "value_skew", "f2", 0.3, 0.01, "f2 differs")
QUALITY = Alarm("quality", "degraded", None, 3.0, 2.0, "cost up")
DRIFT = Signal("prediction_drift", None, 0.05, 0.02, "scores moved")


def route(alarms=(), signals=(), traffic=100, sufficient=False, degraded=False, regressed=False):
    return decide(
        list(alarms),
        list(signals),
        traffic=traffic,
        labels_sufficient=sufficient,
        degraded=degraded,
        regressed_after_release=regressed,
    )


@pytest.mark.parametrize(
    ("kwargs", "action"),
    [
        ({"alarms": [HEALTH, PARITY, QUALITY], "signals": [DRIFT], "degraded": True}, "block"),
        ({"alarms": [PARITY, QUALITY], "degraded": True, "regressed": True}, "repair_parity"),
        ({"alarms": [QUALITY], "degraded": True, "regressed": True}, "rollback"),
        ({"alarms": [QUALITY], "signals": [DRIFT], "degraded": True}, "retrain"),
        ({"signals": [DRIFT]}, "inspect"),
        ({"signals": [DRIFT], "sufficient": True}, "ok"),
        ({}, "ok"),
    ],
)
def test_precedence(kwargs, action):
    assert route(**kwargs).action == action


def test_the_action_names_its_features_and_carries_evidence():
    decision = route(alarms=[PARITY])
    assert decision.features == ["f2"] and "f2" in decision.reason
    assert decision.evidence == [PARITY.to_dict()]


def test_no_traffic_is_said_plainly_unless_requests_failed():
    assert route(traffic=0).action == "inspect"
    assert "no traffic" in route(traffic=0).reason
    failed = Alarm("health", "error_rate", None, 1.0, 0.01, "all failed")
    assert route(alarms=[failed], traffic=0).action == "block"


def test_every_action_is_ranked():
    assert PRECEDENCE == ("block", "repair_parity", "rollback", "retrain", "inspect", "ok")


LAGGING = Alarm("health", "freshness", "f3", 0.6, 0.3, "f3 lags for s=1", "inspect")


def test_a_soft_input_alarm_asks_to_inspect_and_stops_a_retrain():
    decision = route(alarms=[LAGGING, QUALITY], sufficient=True, degraded=True)
    assert decision.action == "inspect" and decision.features == ["f3"]
    assert route(alarms=[LAGGING, PARITY]).action == "repair_parity"
    assert route(alarms=[LAGGING, HEALTH]).action == "block"
    assert route(alarms=[LAGGING, HEALTH]).features == ["f1"]  # the soft one is no blocker


def test_the_decision_names_the_checks_it_could_not_run():
    from monitoring.findings import NotRun

    small = NotRun("freshness", "f3", 38, 50, "carrier_id=c9")
    decision = decide(
        [], [], traffic=100, labels_sufficient=False, degraded=False,
        regressed_after_release=False, not_run=[small],
    )  # fmt: skip
    assert decision.action == "ok"
    assert decision.not_run == ["freshness[carrier_id=c9]"]
    assert "not run, too few rows: freshness[carrier_id=c9]" in decision.reason
