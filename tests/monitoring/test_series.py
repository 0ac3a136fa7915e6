"""`ontime monitor --every`: a series of windows, each judged as a single run judges it, in a
metric history that re-runs replace and later labels extend."""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest

from monitoring.history import read
from tests.monitoring.world import CLEAN, FAULTS

pytestmark = pytest.mark.integration

OUTAGE = FAULTS["backlog_outage"]
FIRST, LAST = CLEAN[0] + 1, OUTAGE[1]  # two clean days, then the two outage days


@pytest.fixture(scope="module")
def series(promoted):
    frm, to = promoted.day(FIRST).isoformat(), promoted.day(LAST).isoformat()
    result = promoted.repo.ontime("monitor", "--from", frm, "--to", to, "--every", "1d",
                                  check=False)  # fmt: skip
    return promoted, result


def test_the_series_flags_the_outage_days_and_only_them(series):
    _, result = series
    assert result.returncode == 3, result.stdout + result.stderr  # a window needs action
    lines = [line for line in result.stdout.splitlines() if line[:8].isdigit()]
    assert len(lines) == LAST - FIRST, result.stdout
    decisions = [line.split(": ")[1].split()[0] for line in lines]
    clean, outage = decisions[: OUTAGE[0] - FIRST], decisions[OUTAGE[0] - FIRST :]
    assert set(clean) <= {"ok", "inspect"}, result.stdout
    assert all(d not in ("ok", "inspect") for d in outage), result.stdout


def test_each_window_is_judged_as_a_single_run_judges_it(series):
    from monitoring.run import monitor

    world, _ = series
    windows, _ = read(world.settings.monitoring.history_path)
    for day in (FIRST, OUTAGE[0]):
        alone = monitor(world.settings, world.day(day), world.day(day + 1))
        row = windows[
            (windows["window_start"] == world.day(day).isoformat())
            & (windows["window_end"] == world.day(day + 1).isoformat())
        ]
        assert row["decision"].tolist() == [alone.action]


def test_history_rows_are_replaced_by_a_rerun_and_kept_per_labels_time(series):
    world, _ = series
    path = world.settings.monitoring.history_path
    frm, to = world.day(OUTAGE[0]).isoformat(), world.day(OUTAGE[0] + 1).isoformat()

    def count(table: str) -> int:
        with sqlite3.connect(path) as db:
            return db.execute(f"select count(*) from {table}").fetchone()[0]

    before = count("windows"), count("metrics")
    rerun = world.repo.ontime("monitor", "--from", frm, "--to", to, "--every", "1d",
                              "--quiet", check=False)  # fmt: skip
    assert rerun.returncode == 3 and rerun.stdout == "", rerun.stdout + rerun.stderr
    assert (count("windows"), count("metrics")) == before  # replaced, not duplicated

    later = world.day(OUTAGE[0] + 8).isoformat()  # labels of the outage day have arrived
    world.repo.ontime("monitor", "--from", frm, "--to", to, "--labels-as-of", later,
                      check=False)  # fmt: skip
    # Other tests judge windows of this world too: look at the series' daily windows only.
    latest, _ = read(path, world.day(FIRST), world.day(LAST))
    length = pd.to_datetime(latest["window_end"]) - pd.to_datetime(latest["window_start"])
    latest = latest[(length == pd.Timedelta(days=1)).to_numpy()]
    day = world.day(OUTAGE[0]), world.day(OUTAGE[0] + 1)
    every, metrics = read(path, *day, "labels", all_labels=True)
    every = every[(every["window_start"] == day[0].isoformat())
                  & (every["window_end"] == day[1].isoformat())]  # fmt: skip
    assert set(every["labels_as_of"]) >= {day[1].isoformat(), later}  # then, and now
    assert len(latest) == LAST - FIRST  # the latest view: one row per window
    assert (latest["labels_as_of"] == later).sum() == 1
    assert metrics["check_name"].str.startswith("labels").all() and len(metrics) > 0
    assert later in set(metrics["labels_as_of"])  # label metrics as known now


def test_history_command_prints_the_windows(series):
    world, _ = series
    out = world.repo.ontime("monitor", "history", "--check", "health.null_rate").stdout
    assert "block" in out and "origin_backlog" in out and "windows in" in out, out


def test_last_judges_the_window_that_just_closed(series):
    world, _ = series
    now = (world.day(OUTAGE[0] + 1) + pd.Timedelta(hours=3)).isoformat()
    result = world.repo.ontime("monitor", "--every", "1d", "--last", "--now", now, check=False)
    assert result.returncode == 3, result.stdout + result.stderr
    assert world.day(OUTAGE[0]).strftime("%Y%m%dT%H%MZ") in result.stdout, result.stdout
