"""Pure, typed feature transforms. ODFVs wrap them; tests and pipelines import them directly."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

SECONDS_PER_HOUR = 3600.0
LEAD_CAP_HOURS = 24.0


def hours_until_departure(
    sched_dep_epoch_s: ArrayLike,
    request_time_epoch_s: ArrayLike,
    cap_hours: float = LEAD_CAP_HOURS,
) -> np.ndarray | pd.Series:
    """Hours from the moment the prediction is asked to the flight's scheduled departure.

    Capped at ``cap_hours``: a day ahead, weather and the day's knock-on delays are not yet
    known, so a longer lead says nothing more. A negative value (asked after departure) is
    kept as is; the contract decides what that means. A missing schedule (NaN) stays
    missing. Built from numpy ufuncs, so Series in give a Series out and arrays an array.
    """
    seconds = np.subtract(sched_dep_epoch_s, request_time_epoch_s, dtype="float64")
    return np.minimum(np.divide(seconds, SECONDS_PER_HOUR), cap_hours)


def departures_in_same_hour(origin: pd.Series, sched_dep_hour_start: pd.Series) -> pd.Series:
    """How many departures the schedule has at the same origin in the same clock hour.

    Congestion at the gate is known from the schedule alone, long before the day, so it is a
    legitimate input; cancelled flights count, because they were scheduled.
    """
    keys = pd.DataFrame({"origin": origin.to_numpy(), "hour": sched_dep_hour_start.to_numpy()})
    return keys.groupby(["origin", "hour"])["origin"].transform("size").astype("int64")


def carrier_late_rate(
    labels: pd.DataFrame,
    day_starts: pd.DatetimeIndex,
    window_days: int = 28,
    prior_weight: float = 20.0,
) -> pd.DataFrame:
    """Daily carrier late rate from labels that had *arrived* before each day began.

    ``labels`` has ``carrier``, ``late`` (bool) and ``label_available_at`` (UTC);
    ``day_starts`` are the instants the days begin (local midnights, in UTC, so DST days
    have 23 or 25 hours). A label counts for day ``d`` only if it arrived strictly before
    ``d`` and within the trailing ``window_days`` days, so the rate never uses an outcome the
    business did not yet know. Rates are shrunk towards the same window's all-carrier rate
    with ``prior_weight`` pseudo-labels, so a carrier with three flights is not 0 or 1.
    """
    days = pd.DatetimeIndex(day_starts)
    arrived = pd.to_datetime(labels["label_available_at"], utc=True)
    # Position of the first day that begins strictly after the label arrived.
    visible = days.searchsorted(arrived, side="right")
    inside = visible < len(days)
    counted = pd.DataFrame(
        {
            "carrier": labels["carrier"].to_numpy()[inside],
            "day": visible[inside],
            "late": labels["late"].to_numpy(dtype=bool)[inside].astype("int64"),
        }
    )
    daily = counted.groupby(["carrier", "day"])["late"].agg(late="sum", total="count")
    carriers = sorted(counted["carrier"].unique())
    grid = pd.MultiIndex.from_product([carriers, range(len(days))], names=["carrier", "day"])
    daily = daily.reindex(grid, fill_value=0)
    rolling = (
        daily.groupby(level="carrier")[["late", "total"]]
        .rolling(window_days, min_periods=1)
        .sum()
        .droplevel(0)
    )
    overall = rolling.groupby(level="day").sum()
    prior = (overall["late"] / overall["total"].where(overall["total"] > 0)).fillna(0.0)
    rolling = rolling.join(prior.rename("prior"), on="day")
    rate = (rolling["late"] + prior_weight * rolling["prior"]) / (rolling["total"] + prior_weight)
    out = pd.DataFrame(
        {
            "carrier_code": rolling.index.get_level_values("carrier"),
            "event_timestamp": days[rolling.index.get_level_values("day")],
            "carrier_late_rate_28d": rate.to_numpy(),
            "carrier_labels_28d": rolling["total"].to_numpy().astype("int64"),
        }
    )
    return out[out["carrier_labels_28d"] > 0].reset_index(drop=True)


def origin_delay_board(
    board: pd.DataFrame,
    grid: pd.DatetimeIndex,
    window: pd.Timedelta,
    day_starts: pd.DatetimeIndex,
    late_minutes: float = 15.0,
) -> pd.DataFrame:
    """Per origin and grid time ``t``: what the departure board had shown by ``t``.

    ``board`` has ``origin``, ``sched_dep_at``, ``actual_dep_at`` (NaT if it never left) and
    ``dep_delay_min``; ``day_starts`` are the local midnights as instants. Only departures
    that had happened by ``t`` count, so every value is known at ``t``:

    - ``recent_dep_delay_min``: mean delay of flights that left in ``(t - window, t]``
      (NaN if none did); ``departures_last_hour``: how many left then;
    - ``overdue_departures``: flights scheduled in ``(t - window, t]`` that had not left by
      ``t`` (a ground stop shows here before any delayed flight departs);
    - ``day_dep_delay_min`` and ``day_late_departure_share``: mean delay and share leaving
      ``late_minutes`` or more late, of the flights that left since local midnight (bad days
      stay bad: delays propagate through the day's rotations).
    """
    times = _nanoseconds(grid)
    midnights = _nanoseconds(day_starts)
    day_start = midnights[np.clip(np.searchsorted(midnights, times, side="right") - 1, 0, None)]
    frames = []
    for origin, rows in board.groupby("origin", sort=True):
        left = rows[rows["actual_dep_at"].notna()].sort_values("actual_dep_at")
        left_at = _nanoseconds(left["actual_dep_at"])
        delay = left["dep_delay_min"].to_numpy(dtype="float64")
        recent_n, recent_sum = _departed_between(left_at, delay, times - window.value, times)
        day_n, day_sum = _departed_between(left_at, delay, day_start, times)
        _, day_late = _departed_between(left_at, delay >= late_minutes, day_start, times)
        # Overdue at t: sched <= t < min(sched + window, actual); never left = leaves at +inf.
        sched = _nanoseconds(rows["sched_dep_at"])
        actual = _nanoseconds(rows["actual_dep_at"])
        actual = np.where(rows["actual_dep_at"].isna().to_numpy(), np.iinfo(np.int64).max, actual)
        end = np.maximum(np.minimum(sched + window.value, actual), sched)
        overdue = np.searchsorted(np.sort(sched), times, side="right") - np.searchsorted(
            np.sort(end), times, side="right"
        )
        frames.append(
            pd.DataFrame(
                {
                    "origin_airport": origin,
                    "event_timestamp": grid,
                    "recent_dep_delay_min": _mean(recent_sum, recent_n),
                    "departures_last_hour": recent_n,
                    "overdue_departures": overdue.astype("int64"),
                    "day_dep_delay_min": _mean(day_sum, day_n),
                    "day_late_departure_share": _mean(day_late, day_n),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _departed_between(
    left_at: np.ndarray, values: np.ndarray, start: np.ndarray, end: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Count and sum of ``values`` over departures in ``(start, end]`` (``left_at`` sorted)."""
    totals = np.r_[0.0, np.cumsum(values, dtype="float64")]
    upper = np.searchsorted(left_at, end, side="right")
    lower = np.searchsorted(left_at, start, side="right")
    return (upper - lower).astype("int64"), totals[upper] - totals[lower]


def _mean(total: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Mean per cell; NaN (missing, never 0) where nothing was counted."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _nanoseconds(times: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """Epoch nanoseconds whatever the stored unit (parquet gives us, ranges give ns)."""
    return pd.DatetimeIndex(times).as_unit("ns").asi8
