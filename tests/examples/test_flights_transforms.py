"""Unit tests of the flights example's pure pieces, on tiny frames."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from examples.flights.feature_repo.transforms import (
    carrier_late_rate,
    hours_until_departure,
    origin_delay_board,
)
from examples.flights.flight_tables import local_time

UTC = "UTC"


def stamp(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=UTC)


def test_lead_time_is_hours_to_departure_capped_and_missing_stays_missing():
    departure = np.array([stamp("2013-01-01 15:00").timestamp(), np.nan, 4e9])
    asked = np.full(3, stamp("2013-01-01 12:30").timestamp())
    hours = hours_until_departure(departure, asked)
    assert hours[0] == 2.5
    assert math.isnan(hours[1])
    assert hours[2] == 24.0


def test_local_new_york_time_becomes_utc_across_the_dst_change():
    one = pd.Series([1])
    winter = local_time(pd.Series([2013]), one, one, pd.Series([515]), "America/New_York")
    summer = local_time(
        pd.Series([2013]), pd.Series([7]), one, pd.Series([515]), "America/New_York"
    )
    assert winter.iloc[0] == stamp("2013-01-01 10:15")
    assert summer.iloc[0] == stamp("2013-07-01 09:15")


def test_carrier_rate_counts_only_labels_that_arrived_before_the_day_began():
    days = pd.DatetimeIndex([stamp("2013-01-02 05:00"), stamp("2013-01-03 05:00")])
    labels = pd.DataFrame(
        {
            "carrier": ["UA", "UA"],
            "late": [True, False],
            # The first arrives before day 1 begins; the second only during day 1.
            "label_available_at": [stamp("2013-01-02 04:59"), stamp("2013-01-02 05:01")],
        }
    )
    rates = carrier_late_rate(labels, days, prior_weight=0.0).set_index("event_timestamp")
    assert rates.loc[days[0], "carrier_labels_28d"] == 1
    assert rates.loc[days[0], "carrier_late_rate_28d"] == 1.0
    assert rates.loc[days[1], "carrier_labels_28d"] == 2
    assert rates.loc[days[1], "carrier_late_rate_28d"] == 0.5


def test_delay_board_sees_only_departures_that_had_left():
    board = pd.DataFrame(
        {
            "origin": ["EWR", "EWR", "EWR"],
            "sched_dep_at": [stamp("2013-01-01 10:00")] * 3,
            # Left 10 min late, left 50 min late, never left (cancelled).
            "actual_dep_at": [stamp("2013-01-01 10:10"), stamp("2013-01-01 10:50"), pd.NaT],
            "dep_delay_min": [10.0, 50.0, np.nan],
        }
    )
    grid = pd.DatetimeIndex([stamp("2013-01-01 10:30"), stamp("2013-01-01 11:00")])
    midnight = pd.DatetimeIndex([stamp("2013-01-01 05:00")])  # New York midnight (EST)
    rows = origin_delay_board(board, grid, pd.Timedelta(hours=1), midnight)
    at_1030, at_1100 = (rows.set_index("event_timestamp").loc[t] for t in grid)
    assert at_1030["recent_dep_delay_min"] == 10.0  # the 50-min one had not left yet
    assert at_1030["departures_last_hour"] == 1
    assert at_1030["overdue_departures"] == 2
    assert at_1030["day_late_departure_share"] == 0.0
    assert at_1100["recent_dep_delay_min"] == 30.0
    assert at_1100["overdue_departures"] == 0  # scheduled an hour ago: out of the window
    assert at_1100["day_dep_delay_min"] == 30.0
    assert at_1100["day_late_departure_share"] == 0.5


def test_delay_board_is_missing_before_the_first_departure_of_the_day():
    board = pd.DataFrame(
        {
            "origin": ["JFK"],
            "sched_dep_at": [stamp("2013-01-01 12:00")],
            "actual_dep_at": [stamp("2013-01-01 12:05")],
            "dep_delay_min": [5.0],
        }
    )
    grid = pd.DatetimeIndex([stamp("2013-01-01 11:00")])
    row = origin_delay_board(board, grid, pd.Timedelta(hours=1), grid).iloc[0]
    assert math.isnan(row["recent_dep_delay_min"]) and math.isnan(row["day_dep_delay_min"])
    assert row["departures_last_hour"] == 0


def test_day_matched_scores_keep_each_day_s_order_and_hit_its_late_rate():
    from examples.flights.day_shocks import day_matched

    rng = np.random.default_rng(3)
    p = rng.uniform(0.05, 0.6, 300)
    days = np.repeat(["d1", "d2", "d3"], 100)
    y = np.concatenate([np.ones(70), np.zeros(30), np.zeros(100), rng.integers(0, 2, 100)])
    matched = day_matched(p, y.astype(float), days)
    for day in ("d1", "d2", "d3"):
        mine = days == day
        assert abs(matched[mine].mean() - max(y[mine].mean(), 1e-4)) < 1e-6
        # one shift per day: the day's ranking is untouched
        assert (np.argsort(matched[mine]) == np.argsort(p[mine])).all()
