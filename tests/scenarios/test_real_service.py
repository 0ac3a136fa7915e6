"""The scenario matrix through the real loop: registry model, ``ontime serve``, replay, monitor.

One simulated world holds every fault in its own day window (the same world as the
monitoring scenario tests). A model is trained and promoted through ``ontime cycle``,
served by a real ``ontime serve`` process, and each window's prediction events are replayed
over HTTP while the online store advances by write time. ``monitor`` then reads only what
the service logged. A clean control window must come out ``ok`` with no alarms.
"""

from __future__ import annotations

import pandas as pd
import pytest

from tests.integration.conftest import make_repo
from tests.monitoring.world import DAYS, FAULTS, config_text

pytestmark = pytest.mark.integration

CLEAN = (22, 23)
WINDOW_HOURS = (6, 22)  # most asks fall in the working day
# Day of each fault window to replay. A lagging scan feed only shows once the usual gap
# between scans has passed: on its first day (lag from midnight) the real loop saw only
# prediction drift, so the stale-scan window is its second day.
REPLAY_DAY = {"stale_scans": 1}


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    from monitoring.run import monitor
    from ontime.repo import describe_service, open_store
    from ontime.settings import load_settings
    from ontime_cli.launcher import ServiceProcess
    from serving.clock import OnlineClock, replay_with_clock

    base = tmp_path_factory.mktemp("loop")
    repo = make_repo(base)
    repo.config.write_text(
        config_text(base).replace(
            "serving:\n  log_dir: logs\n",
            "serving:\n  log_dir: logs\n  feeds:\n"
            "    shipment_stream: feature_repo/data/raw/shipment_stream.parquet\n",
        )
    )
    repo.ontime("simulate")
    repo.ontime("apply")
    settings = load_settings(repo.config)
    day0 = pd.Timestamp(settings.simulation.start)

    def day(index: float) -> pd.Timestamp:
        return day0 + pd.Timedelta(days=index)

    repo.ontime(
        "cycle",
        "--cutoff",
        day(CLEAN[0]).isoformat(),
        "--bootstrap-reason",
        "scenario test: first champion",
    )
    windows = {"clean": CLEAN}
    for name, (first, _) in FAULTS.items():
        replay_day = first + REPLAY_DAY.get(name, 0)
        windows[name] = (replay_day, replay_day + 1)
    spans = {
        name: (
            day(a) + pd.Timedelta(hours=WINDOW_HOURS[0]),
            day(a) + pd.Timedelta(hours=WINDOW_HOURS[1]),
        )
        for name, (a, _) in windows.items()
    }
    store = open_store(settings.feature_repo)
    keys = list(describe_service(store, settings.feature_service).entity_keys)
    events = pd.read_parquet(settings.events.table)
    times = pd.to_datetime(events[settings.events.time_column], utc=True)
    clock = OnlineClock(store, settings.serving.feeds)
    counts = {}
    with ServiceProcess(repo.config) as url:
        for name, (start, end) in sorted(spans.items(), key=lambda item: item[1][0]):
            chosen = events[(times >= start) & (times < end)]
            counts[name] = replay_with_clock(clock, url, chosen, keys, settings.events.time_column)

    def run(name: str, labels_day: float | None = None):
        start, end = spans[name]
        as_of = day(labels_day).to_pydatetime() if labels_day is not None else None
        return monitor(settings, start.to_pydatetime(), end.to_pydatetime(), labels_as_of=as_of)

    return run, counts


def alarms(summary) -> set[tuple[str, str]]:
    return {(alarm.check, alarm.feature) for alarm in summary.alarms}


def test_every_window_was_served(loop):
    _, counts = loop
    for name, count in counts.items():
        assert count.get("200", 0) > 50, (name, dict(count))


def test_clean_control_is_ok_with_no_alarms(loop):
    run, _ = loop
    summary = run("clean")
    assert summary.action == "ok", summary.decision
    assert summary.alarms == []


def test_backlog_outage_blocks(loop):
    run, _ = loop
    summary = run("backlog_outage")
    assert summary.action == "block", summary.decision
    assert any(feature == "origin_backlog" for _, feature in alarms(summary))


def test_stale_scans_raise_a_freshness_alarm_on_scan_age(loop):
    run, _ = loop
    summary = run("stale_scans")
    assert summary.action in {"block", "inspect"}, summary.decision
    assert any(feature == "hours_since_last_scan" for _, feature in alarms(summary)), (
        alarms(summary),
        summary.decision,
    )


def test_new_carrier_raises_an_unseen_category_alarm(loop):
    run, _ = loop
    summary = run("new_carrier")
    found = alarms(summary)
    assert any("unseen" in check and feature == "carrier" for check, feature in found), found


def test_online_skew_asks_to_repair_parity_naming_the_feature(loop):
    run, _ = loop
    summary = run("online_skew")
    assert summary.action == "repair_parity", summary.decision
    assert "distance_km" in summary.decision.features


def test_holiday_surge_is_inspected_before_labels(loop):
    run, _ = loop
    before = run("holiday_surge")
    assert before.action == "inspect", before.decision


@pytest.mark.xfail(
    strict=True,
    reason="known gap: the surge's realised cost stays inside the interval the champion's "
    "own (raised) scores predict for it, so labels show no significant degradation",
)
def test_holiday_surge_is_retrained_once_labels_arrive(loop):
    run, _ = loop
    after = run("holiday_surge", labels_day=DAYS - 1)
    assert after.action == "retrain", after.decision
