"""Input health on tiny frames: excess over the reference or the clean-window range, named
features, named segments, severities, and checks that could not be run."""

from __future__ import annotations

import numpy as np
import pandas as pd

from monitoring.health import input_health
from monitoring.profile import MonitoringProfile
from monitoring.schema import MonitoredFeature
from ontime.settings.monitoring import HealthSettings, MonitoringSettings

LEVEL = MonitoredFeature("level", "numeric", budget_s=3600.0)
KIND = MonitoredFeature("kind", "categorical", budget_s=None)
SETTINGS = MonitoringSettings(health=HealthSettings(min_rows=10, segment_min_rows=10))
NO_ERRORS = pd.DataFrame(columns=["served_at", "kind", "detail", "latency_ms"])


def served(n=200, level_missing=0.0, unseen=0.0, stale=0.0, age_s=60.0, latency=10.0):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "site": rng.choice(["s1", "s2", "s3", "s4"], n),
            "level": np.where(rng.random(n) < level_missing, np.nan, 1.0),
            "level__status": "present",
            "level__age_s": age_s,
            "kind": "a",
            "kind__status": "present",
            "latency_ms": latency,
        }
    )
    frame.loc[frame["level"].isna(), "level__status"] = "missing"
    frame.loc[frame.index[: int(n * unseen)], ["kind", "kind__status"]] = ["zz", "unseen_category"]
    frame.loc[frame.index[: int(n * stale)], "level__status"] = "stale"
    return frame


def reference(level_missing=0.0, n=1000):
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {"level": np.where(rng.random(n) < level_missing, np.nan, 1.0), "kind": "a"}
    )


def check(frame, ref=None, errors=NO_ERRORS, settings=SETTINGS, profile=None):
    ref = reference() if ref is None else ref
    result = input_health(frame, errors, ref, [LEVEL, KIND], settings, ["site"], profile)
    return {(a.check, a.feature) for a in result.alarms}, result


def profile_with(quantiles):
    """A profile whose clean windows had these quantiles (nothing else is read by health)."""
    return MonitoringProfile("m", "1", 12.0, "x", {}, [], {}, quantiles, [[0]], [0.0], [0.0])


def test_healthy_traffic_raises_nothing():
    found, result = check(served())
    assert found == set()
    assert result.metrics["health.null_rate.level"] == 0.0


def test_null_rate_alarms_on_the_excess_over_the_reference_only():
    usual = reference(level_missing=0.30)
    assert check(served(level_missing=0.32), usual)[0] == set()
    assert check(served(level_missing=0.60), usual)[0] == {("null_rate", "level")}


def test_unseen_categories_alarm_and_name_the_value():
    found, result = check(served(unseen=0.10))
    assert found == {("unseen_category", "kind")}
    assert "zz" in result.alarms[0].message


def test_stale_status_and_age_beyond_the_budget_are_freshness_alarms():
    assert check(served(stale=0.2))[0] == {("freshness", "level")}
    assert check(served(age_s=2 * 3600.0))[0] == {("freshness", "level")}


def test_one_lagging_segment_is_a_freshness_alarm_naming_it_that_asks_to_inspect():
    frame = served(age_s=600.0)
    lagging = frame["site"] == "s3"
    frame.loc[lagging, "level__age_s"] = 3000.0  # older, yet within the 1 h budget
    found, result = check(frame)
    assert found == {("freshness", "level")}
    assert "site=s3" in result.alarms[0].message
    assert result.alarms[0].severity == "inspect"  # within its budget: no hard failure


def test_hard_input_failures_block():
    _, result = check(served(level_missing=0.6))
    assert [a.severity for a in result.alarms] == ["block"]


def test_a_rate_inside_the_clean_window_range_never_alarms():
    """Nulls the clean windows also had (up to 40%) are quiet; beyond them by the margin
    (5 points) they block."""
    profile = profile_with({"null_rate.level": 0.40})
    assert check(served(level_missing=0.42), profile=profile)[0] == set()
    found, result = check(served(level_missing=0.60), profile=profile)
    assert found == {("null_rate", "level")}
    assert result.alarms[0].threshold == 0.45


def test_a_segment_lag_inside_its_clean_range_is_quiet():
    frame = served(age_s=600.0)
    frame.loc[frame["site"] == "s3", "level__age_s"] = 3000.0
    assert check(frame, profile=profile_with({"segment_lag.level": 0.9}))[0] == set()


def test_a_segment_too_small_to_judge_is_reported_not_skipped():
    frame = served(n=200, age_s=600.0)
    frame.loc[frame.index[:5], "site"] = "tiny"
    _, result = check(frame)
    small = [n for n in result.not_run if n.segment == "site=tiny"]
    assert [(n.check, n.feature, n.rows, n.needed) for n in small] == [
        ("freshness", "level", 5, 10)
    ]
    assert small[0].to_dict()["status"] == "insufficient"


def test_future_values_count_as_missing():
    frame = served()
    frame.loc[frame.index[:100], "level__status"] = "future"
    found, result = check(frame)
    assert result.metrics["health.null_rate.level"] == 0.5
    assert found == {("null_rate", "level")}


def test_everything_older_at_once_is_not_a_segment_alarm():
    frame = served(age_s=600.0)
    frame["level__age_s"] = np.random.default_rng(2).uniform(0, 3000, len(frame))
    assert check(frame)[0] == set()


def test_error_rate_and_latency_are_service_alarms():
    stamp = pd.Timestamp("2026-01-01", tz="UTC")
    errors = pd.DataFrame(
        {"served_at": [stamp] * 10, "kind": "store_unavailable", "detail": "", "latency_ms": 5.0}
    )
    found, result = check(served(latency=900.0), errors=errors)
    assert found == {("error_rate", None), ("latency", None)}
    assert result.metrics["health.errors_by_kind.store_unavailable"] == 10


def test_too_few_rows_never_alarm_and_say_so():
    found, result = check(served(n=5, level_missing=1.0))
    assert found == set()
    assert ("null_rate", "level") in {(n.check, n.feature) for n in result.not_run}


def clean_unseen_profile(windows=240, rows=200):
    """Hourly 12-hour clean windows of ``rows`` rows that never held an unseen value."""
    starts = pd.date_range("2026-06-01", periods=windows, freq="h", tz="UTC")
    return MonitoringProfile(
        "m", "1", 12.0, "x", {}, [s.isoformat() for s in starts],
        {"unseen_rate.kind": [0.0] * windows}, {"unseen_rate.kind": 0.0}, [[0]], [0.0], [0.0],
        window_rows=[rows] * windows,
    )  # fmt: skip


def test_a_few_unseen_values_below_the_block_margin_ask_to_inspect():
    """3 of 200 rows (1.5%, under the 2-point margin) are more than clean windows hold."""
    found, result = check(served(unseen=0.015), profile=clean_unseen_profile())
    assert found == {("unseen_category", "kind")}
    assert result.alarms[0].severity == "inspect"
    assert "zz" in result.alarms[0].message and "3 of 200" in result.alarms[0].message


def test_unseen_values_need_no_minimum_row_count_to_count_as_evidence():
    frame = served(n=8, unseen=0.5)  # fewer rows than health.min_rows (10)
    found, result = check(frame, profile=clean_unseen_profile())
    assert found == {("unseen_category", "kind")}
    assert ("unseen_category", "kind") not in {(n.check, n.feature) for n in result.not_run}


def test_a_single_stray_unseen_value_is_not_evidence():
    found, result = check(served(unseen=0.005), profile=clean_unseen_profile())
    assert found == set()
    assert result.metrics["health.unseen_rate.kind"] == 0.005
    assert result.metrics["health.unseen_rate.kind.clean_baseline"] > 0.005 / 5


def test_unseen_values_as_common_as_in_clean_windows_are_quiet():
    profile = clean_unseen_profile()
    profile.values["unseen_rate.kind"][7] = 0.03  # one clean window held 3% unseen
    assert check(served(unseen=0.015), profile=profile)[0] == set()


def test_a_segment_that_stops_getting_fresh_values_is_a_freshness_alarm():
    """Its old share is about the rest's; only the fresh values are missing (a feed that
    stopped hours ago): a shortfall of the whole expected fresh share, well past the floor."""
    rng = np.random.default_rng(3)
    frame = served(n=400, age_s=600.0)
    frame["level__age_s"] = rng.uniform(0, 3000, len(frame))
    lagging = frame["site"] == "s3"
    frame.loc[lagging, "level__age_s"] = rng.uniform(1000, 3000, int(lagging.sum()))
    found, result = check(frame)
    assert found == {("freshness", "level")}
    assert "site=s3" in result.alarms[0].message
    assert result.alarms[0].severity == "inspect"
