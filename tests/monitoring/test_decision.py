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
