"""Input health on tiny frames: excess over the reference, named features, named segments."""

from __future__ import annotations

import numpy as np
import pandas as pd

from monitoring.health import input_health
from monitoring.schema import MonitoredFeature
from ontime.settings.monitoring import HealthSettings

LEVEL = MonitoredFeature("level", "numeric", budget_s=3600.0)
KIND = MonitoredFeature("kind", "categorical", budget_s=None)
SETTINGS = HealthSettings(min_rows=10)
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


def check(frame, ref=None, errors=NO_ERRORS, settings=SETTINGS):
    ref = reference() if ref is None else ref
    result = input_health(frame, errors, ref, [LEVEL, KIND], settings, keys=["site"])
    return {(a.check, a.feature) for a in result.alarms}, result


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


def test_one_lagging_segment_is_a_freshness_alarm_naming_it():
    frame = served(age_s=600.0)
    lagging = frame["site"] == "s3"
    frame.loc[lagging, "level__age_s"] = 3000.0  # older, yet within the 1 h budget
    found, result = check(frame)
    assert found == {("freshness", "level")}
    assert "site=s3" in result.alarms[0].message


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


def test_too_few_rows_never_alarm():
    assert check(served(n=5, level_missing=1.0))[0] == set()
