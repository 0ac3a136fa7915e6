"""The monitoring profile on a small synthetic reference period: windows, quantiles, backtest,
storage with the model, and a rebuild when settings change."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from monitoring.calibrate import build_profile
from monitoring.false_alarms import ANY
from monitoring.profile import MonitoringProfile
from monitoring.profiles import profile_for
from monitoring.reference import Reference
from monitoring.schema import MonitoredFeature
from ontime.errors import OntimeError
from ontime.settings.monitoring import HealthSettings, MonitoringSettings
from ontime.settings.training import CostMatrix

LEVEL = MonitoredFeature("level", "numeric", budget_s=3600.0)
KIND = MonitoredFeature("kind", "categorical", budget_s=None)
DAYS = 10
CHECKS = MonitoringSettings()


def period(days=DAYS, null_share=0.05, seed=0):
    """One row every 5 minutes; ``level`` missing at random, ``kind`` always known."""
    rng = np.random.default_rng(seed)
    at = pd.date_range("2026-06-01", periods=days * 288, freq="5min", tz="UTC")
    n = len(at)
    p = rng.beta(2, 6, n)
    return pd.DataFrame(
        {
            "prediction_time": at,
            "site": rng.choice(["s1", "s2", "s3"], n),
            "level": np.where(rng.random(n) < null_share, np.nan, 1.0),
            "level__status": "present",
            "level__age_s": rng.uniform(0, 1800, n),
            "kind": "a",
            "kind__status": "present",
            "probability": p,
            "threshold": 0.4,
            "_label": rng.random(n) < p,
        }
    )


def build(rows=None, hours=12.0, checks=CHECKS):
    rows = period() if rows is None else rows
    return build_profile(rows, [LEVEL, KIND], ["site"], checks, CostMatrix(), hours, ("m", "3"))


def test_windows_of_the_monitored_length_start_every_hour():
    profile = build()
    assert profile.windows == DAYS * 24 - 12  # every window ends by the last row
    assert profile.window_starts[1] == "2026-06-01T01:00:00+00:00"
    assert all(len(v) == profile.windows for v in profile.values.values())


def test_each_statistic_has_its_clean_window_quantile():
    profile = build()
    assert 0.05 < profile.quantile("null_rate.level") < 0.1
    assert profile.quantile("unseen_rate.kind") == 0.0
    assert 0.0 < profile.quantile("segment_lag.level") < 0.3  # sampling noise of ~48 rows
    assert 0.0 < profile.quantile("prediction_drift") < 0.05
    for name in ("cost_per_order", "precision", "recall"):
        assert 1.0 < profile.quantile(f"quality.{name}") < 5.0, name


def test_backtest_false_alarm_rates_are_low_on_clean_windows():
    profile = build()
    assert set(profile.false_alarms) >= {"null_rate.level", "prediction_drift", ANY}
    assert profile.false_alarms[ANY] <= 0.05
    assert all(rate <= 0.05 for rate in profile.false_alarms.values())


def test_a_window_with_too_few_rows_is_unmeasured_not_zero():
    rows = period()
    rows = rows[rows["prediction_time"].dt.hour != 3].reset_index(drop=True)  # a quiet hour
    profile = build(rows, hours=1.0)
    assert None in profile.values["null_rate.level"]
    assert None in profile.values["quality.recall"]


def test_a_profile_survives_json_and_refuses_another_format():
    profile = build()
    again = MonitoringProfile.from_dict(json.loads(json.dumps(profile.to_dict())))
    assert again == profile
    with pytest.raises(OntimeError, match="format"):
        MonitoringProfile.from_dict(profile.to_dict() | {"format": 0})


class MemoryStore:
    def __init__(self):
        self.saved: dict[str, dict] = {}

    def load(self, name):
        return self.saved.get(name)

    def save(self, name, profile):
        self.saved[name] = json.loads(json.dumps(profile))


def reference(store, rows):
    return Reference("m", "3", rows, np.array([0.5]), period=rows, profile_store=store)


def test_built_once_stored_with_the_model_and_rebuilt_when_settings_change():
    store, rows = MemoryStore(), period()
    first = profile_for(reference(store, rows), 12.0, [LEVEL, KIND], ["site"], CHECKS, CostMatrix())
    assert first is not None and list(store.saved) == ["window-12h"]
    # Another process: no period to build from, the stored profile is used as it is.
    later = Reference("m", "3", rows, np.array([0.5]), profile_store=store)
    assert profile_for(later, 12.0, [LEVEL, KIND], ["site"], CHECKS, CostMatrix()) == first
    stricter = CHECKS.model_copy(update={"health": HealthSettings(null_rate_excess=0.01)})
    notes: list[str] = []
    assert profile_for(later, 12.0, [LEVEL, KIND], ["site"], stricter, CostMatrix(), notes) is None
    assert "no reference period" in notes[0]  # stale thresholds are never used


def test_too_short_a_reference_period_falls_back_with_a_note():
    notes: list[str] = []
    short = reference(None, period(days=1))
    found = profile_for(short, 12.0, [LEVEL, KIND], ["site"], CHECKS, CostMatrix(), notes)
    assert found is None and "clean 12-hour windows" in notes[0]


def test_profile_files_live_next_to_the_registry_artifacts(tmp_path):
    from ontime.settings import Settings
    from training.lineage import ProfileFiles

    settings = Settings.model_validate(
        {"training": {"registry": {"artifact_dir": str(tmp_path / "mlruns")}}}
    )
    files = ProfileFiles(settings, "late_delivery", "7")
    assert files.load("window-12h") is None
    path = files.save("window-12h", {"format": 1})
    assert path == tmp_path / "mlruns/monitoring_profiles/late_delivery/v7/window-12h.json"
    assert files.load("window-12h") == {"format": 1}


def drift_windows(seed=0):
    """Hourly 24-hour windows over 14 days, shaped like the default world's measured profile:
    weekday windows (group 1) far from the reference by ~0.007 with a long tail, Monday
    windows (group 0, only two Mondays) by ~0.016 with a short one, since a Monday compared
    with the one other Monday meets a sparse, noisy reference."""
    rng = np.random.default_rng(seed)
    starts = pd.date_range("2026-07-05", periods=14 * 24, freq="h", tz="UTC")
    groups = np.where(starts.weekday == 0, 0, 1)
    days = [s.isoformat()[:10] for s in starts]
    scale = np.where(groups == 0, 0.016, 0.007)
    values = scale * np.exp(rng.normal(0.0, np.where(groups == 0, 0.15, 0.4)))
    return [float(v) for v in values], groups.tolist(), days


def test_a_sparse_day_group_takes_its_tail_shape_from_every_window():
    """Day 63 of the 30-day series (a clean Monday, Wasserstein 0.035 against Monday windows
    of at most 0.022) was judged by the two Mondays' own quantile and flagged."""
    from monitoring.profile import clean_quantile

    values, groups, days = drift_windows()
    mondays = [v for v, g in zip(values, groups, strict=True) if g == 0]
    threshold = clean_quantile("prediction_drift", values, groups, days, 0, 0.99, 20)
    assert threshold > 1.6 * max(mondays)
    # A group with many days keeps a threshold near its own tail...
    weekday = [v for v, g in zip(values, groups, strict=True) if g == 1]
    busy = clean_quantile("prediction_drift", values, groups, days, 1, 0.99, 20)
    assert 0.8 < busy / float(np.quantile(weekday, 0.99)) < 1.25
    # ...and other statistics keep the rule by days: two Mondays are judged by all windows.
    plain = clean_quantile("null_rate.x", values, groups, days, 0, 0.99, 20)
    assert plain == pytest.approx(float(np.quantile(values, 0.99)))
