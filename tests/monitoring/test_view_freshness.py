"""Freshness per feature view: each view's served lag, and an alarm naming the view whose
values are older than its freshness SLA in too many rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from monitoring.freshness import view_freshness
from ontime.repo import ServiceSpec
from tests.monitoring.world import CLEAN

SPEC = ServiceSpec(
    name="svc_v1",
    features=("a", "b", "c"),
    feature_refs=("va:a", "va:b", "vb:c"),
    entity_keys=("k",),
    request_fields=(),
    dtypes={"a": "Float64", "b": "Float64", "c": "Float64"},
    ttl_seconds={"a": 0.0, "b": 0.0, "c": 0.0},
    views={"a": "va", "b": "va", "c": "vb"},
    freshness_sla_s={"vb": 3600.0},
)


def served(c_ages: list[float]) -> pd.DataFrame:
    n = len(c_ages)
    return pd.DataFrame({
        "a__age_s": np.full(n, 60.0),
        "b__age_s": np.linspace(0, 600, n),  # the view's lag is its oldest feature's age
        "c__age_s": c_ages,
    })  # fmt: skip


def test_each_view_reports_its_served_lag():
    found = view_freshness(served([10.0] * 99 + [np.nan]), SPEC, {}, breach_rate=0.05)
    assert found.metrics["freshness.lag_p95_s.va"] == np.percentile(np.linspace(0, 600, 100), 95)
    assert found.metrics["freshness.lag_p95_s.vb"] == 10.0  # a missing value has no age
    assert found.metrics["freshness.sla_breach_rate.vb"] == 0.0
    assert "freshness.sla_breach_rate.va" not in found.metrics  # no SLA, no breach rate
    assert found.alarms == []


def test_a_view_past_its_sla_in_too_many_rows_raises_an_alarm_naming_it():
    found = view_freshness(served([10.0] * 90 + [7200.0] * 10), SPEC, {}, breach_rate=0.05)
    assert found.metrics["freshness.sla_breach_rate.vb"] == 0.1
    (alarm,) = found.alarms
    assert (alarm.area, alarm.check, alarm.feature, alarm.severity) == (
        "health", "freshness_sla", "vb", "inspect")  # fmt: skip
    assert "vb" in alarm.message and "1h" in alarm.message and "10.0%" in alarm.message


def test_settings_override_a_views_sla():
    found = view_freshness(served([10.0] * 100), SPEC, {"vb": "5s"}, breach_rate=0.05)
    assert found.metrics["freshness.sla_breach_rate.vb"] == 1.0 and len(found.alarms) == 1


@pytest.mark.integration
def test_monitor_alarms_on_the_view_past_its_sla_and_keeps_its_lag_in_the_history(promoted):
    from monitoring.history import read
    from monitoring.run import monitor

    world = promoted
    serving = world.settings.serving.model_copy(
        update={"freshness_sla": {"warehouse_backlog": "1m"}}
    )
    settings = world.settings.model_copy(update={"serving": serving})
    start, end = world.day(CLEAN[0] + 1.375), world.day(CLEAN[0] + 1.875)  # 09:00-21:00
    summary = monitor(settings, start.to_pydatetime(), end.to_pydatetime())
    (alarm,) = [a for a in summary.alarms if a.check == "freshness_sla"]
    assert alarm.feature == "warehouse_backlog" and alarm.severity == "inspect"
    assert summary.action != "ok" and "warehouse_backlog" in summary.decision.reason
    _, metrics = read(settings.monitoring.history_path, start, end)
    mine = metrics[metrics["window_start"] == start.isoformat()]
    lags = mine[mine["check_name"] == "freshness.lag_p95_s"].set_index("subject")["value"]
    assert {"warehouse_backlog", "shipment_profile"} <= set(lags.index)
    assert lags["warehouse_backlog"] > 60  # why the 1-minute SLA was breached
