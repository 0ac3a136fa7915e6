"""Scenario tests: each detector fires on its own fault, and a clean window stays quiet.

The world (tests/monitoring/world.py) holds every simulator fault in its own day window;
``monitor`` reads the logged predictions through serving's reader, recomputes features
through the real Feast repo and writes its reports. A false alarm fails like a miss.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pandas as pd
import pytest

from monitoring.run import monitor
from simulator.faults import NEW_CARRIER, STALE_CARRIER
from tests.monitoring.world import CLEAN, DAYS, FAULTS

pytestmark = pytest.mark.integration
LATE = DAYS - 1  # by then every label of the fault windows has arrived


def run(world, days, labels_day=None, reference=None, window_time=None):
    start, end = world.day(days[0]), world.day(days[1])
    as_of = world.day(labels_day) if labels_day is not None else None
    settings = world.settings
    if window_time is not None:
        checks = settings.monitoring.model_copy(update={"window_time": window_time})
        settings = settings.model_copy(update={"monitoring": checks})
    return monitor(
        settings,
        start.to_pydatetime(),
        end.to_pydatetime(),
        reference=reference or world.reference,
        labels_as_of=as_of.to_pydatetime() if as_of is not None else None,
        store=world.store,
    )


def alarms(summary, check):
    return [a for a in summary.alarms if a.check == check]


def test_clean_window_is_ok_with_no_alarm_and_no_signal(world):
    summary = run(world, CLEAN)
    assert summary.action == "ok", summary.decision
    assert summary.alarms == [] and summary.signals == []
    assert summary.profile["calibrated"] and summary.profile["clean_windows"] > 100
    assert summary.metrics["parity.rows"] > 0
    assert all(v == 0 for k, v in summary.metrics.items() if k.startswith("parity.mismatch"))


def test_clean_window_with_its_labels_is_still_ok(world):
    summary = run(world, CLEAN, labels_day=LATE)
    assert summary.labels["sufficient"] and summary.labels["coverage"] > 0.95
    assert summary.action == "ok", summary.decision
    assert summary.alarms == []
    slices = summary.labels["slices"]
    assert set(slices) == {"carrier", "origin_warehouse", "expedited"}
    cells = [c for cs in slices.values() for c in cs]
    assert sum(c["rows"] for c in slices["carrier"]) == summary.labels["aggregate"]["rows"]
    assert all((c["status"] == "ok") == (c["rows"] >= 100) for c in cells)
    assert all(c.get("cost_per_order") is not None for c in cells if c["status"] == "ok")


def test_backlog_outage_blocks_naming_the_backlog_feature(world):
    summary = run(world, FAULTS["backlog_outage"])
    assert summary.action == "block"
    assert {a.feature for a in alarms(summary, "null_rate")} == {"origin_backlog"}
    assert summary.decision.features == ["origin_backlog"]


def test_stale_scans_raise_a_freshness_alarm_on_the_scan_feature(world):
    summary = run(world, FAULTS["stale_scans"])
    freshness = alarms(summary, "freshness")
    # Scans lag 30-48 h, well inside their 8-day budget: a look, unless values go missing.
    assert summary.action in {"block", "inspect"}, summary.decision
    assert {a.feature for a in freshness} == {"hours_since_last_scan"}
    assert any(f"carrier_id={STALE_CARRIER}" in a.message for a in freshness)
    assert all(a.severity == "inspect" for a in freshness)


def test_new_carrier_raises_an_unseen_category_alarm(world):
    summary = run(world, FAULTS["new_carrier"])
    unseen = alarms(summary, "unseen_category")
    assert summary.action == "block"
    assert [a.feature for a in unseen] == ["carrier"]
    assert NEW_CARRIER in unseen[0].message


def test_online_skew_asks_to_repair_parity_naming_the_feature(world):
    summary = run(world, FAULTS["online_skew"])
    assert summary.action == "repair_parity", summary.decision
    assert summary.decision.features == ["distance_km"]
    assert {a.check for a in summary.alarms} == {"value_skew"}
    example = summary.parity_examples["distance_km"][0]
    assert example["class"] == "value_skew"
    assert example["served"] == pytest.approx(example["offline"] / 1.609344, rel=1e-3)


def test_holiday_surge_is_inspected_before_labels_and_retrained_after(world):
    early = run(world, FAULTS["holiday_surge"])
    assert early.action == "inspect", early.decision
    assert early.alarms == []
    assert [s.check for s in early.signals] == ["prediction_drift"]
    assert not early.labels["sufficient"]

    late = run(world, FAULTS["holiday_surge"], labels_day=LATE)
    assert late.action == "retrain", late.decision
    assert {a.check for a in late.alarms} == {"degraded"}
    cost = late.labels["intervals"]["cost_per_order"]
    assert cost["significant"] and cost["material"] and cost["value"] > cost["high"]


def test_regression_right_after_a_release_rolls_back(world):
    released = world.day(FAULTS["holiday_surge"][0] - 1).to_pydatetime()
    better_before = {"precision": 0.9, "recall": 0.9, "cost_per_order": 1.0}
    reference = replace(world.reference, promoted_at=released, previous_test_metrics=better_before)
    summary = run(world, FAULTS["holiday_surge"], labels_day=LATE, reference=reference)
    assert summary.action == "rollback", summary.decision
    assert any(a.check == "regression_after_release" for a in summary.alarms)


def test_reports_are_written_and_readable(world):
    summary = run(world, FAULTS["online_skew"])
    folder = world.settings.monitoring.reports_dir / summary.window["name"]
    stored = json.loads((folder / "summary.json").read_text())
    assert stored["decision"]["action"] == summary.action
    assert stored["metrics"]["parity.skew_rate.distance_km"] > 0.1
    for name in ("drift.html", "parity.html", "overview.html", "drift_evidently.json"):
        assert (folder / name).stat().st_size > 1000, name
    overview = (folder / "overview.html").read_text()
    assert "repair_parity" in overview and "<svg" in overview
    assert "monitoring profile of v1" in overview
    rates = stored["profile"]["false_alarm_rates"]
    assert 0.0 <= rates["any"] <= 1.0 and "backtest" in overview


def test_a_too_small_segment_is_named_in_the_decision(world):
    """A short window where some carrier has fewer aged rows than the segment minimum."""
    start = world.day(CLEAN[0] + 1) + pd.Timedelta(hours=3)
    summary = monitor(
        world.settings, start.to_pydatetime(), (start + pd.Timedelta(hours=2)).to_pydatetime(),
        reference=world.reference, store=world.store,
    )  # fmt: skip
    assert summary.not_run, summary.decision
    assert all(n["status"] == "insufficient" for n in summary.not_run)
    assert "not run, too few rows" in summary.decision.reason


def test_a_window_without_traffic_says_so(world):
    summary = run(world, (DAYS + 2, DAYS + 3))
    assert summary.action == "inspect"
    assert "no traffic" in summary.decision.reason
    assert any("no traffic" in note for note in summary.notes)
    folder = world.settings.monitoring.reports_dir / summary.window["name"]
    assert json.loads((folder / "summary.json").read_text())["decision"]["action"] == "inspect"


def test_an_online_store_lagging_an_hour_is_stale_not_skew(world):
    """Serve each backlog value one report late (as a stalled push would) on a spare day."""
    from monitoring.parity import recompute
    from ontime.repo import describe_service, load_contract
    from tests.monitoring.world import write_logs

    rows = world.rows[(world.rows["_day"] >= CLEAN[0]) & (world.rows["_day"] < CLEAN[0] + 1)]
    rows = rows.reset_index(drop=True)
    spec = describe_service(world.store, world.settings.feature_service)
    contract = load_contract(world.settings.feature_repo)
    hour_ago = recompute(
        world.store, spec, contract, rows, rows["prediction_time"] - pd.Timedelta(hours=1)
    )
    lagging = rows.copy()
    lagging["origin_backlog"] = hour_ago["origin_backlog"].to_numpy()
    lagging["origin_backlog__age_s"] = rows["origin_backlog__age_s"] + 3600
    spare = (DAYS + 5, DAYS + 6)
    shift = world.day(spare[0]) - world.day(CLEAN[0])
    write_logs(world, spare, lagging, served_shift=shift)

    # The lagging rows are served on a spare day but asked on the clean day: window by serving.
    summary = run(world, spare, window_time="served_at")
    assert summary.action == "repair_parity", summary.decision
    assert {(a.check, a.feature) for a in summary.alarms} == {("stale_online", "origin_backlog")}
    assert {e["class"] for e in summary.parity_examples["origin_backlog"]} == {"stale"}
    assert summary.metrics["parity.skew_rate.origin_backlog"] == 0.0
