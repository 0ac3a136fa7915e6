"""Fault scenarios, each active only inside its day window.

Two kinds: physical shifts (``holiday_surge``, ``new_carrier``) change the world itself, so
delivery times and labels move with them; data-feed faults (``backlog_outage``,
``stale_scans``, ``online_skew``) only corrupt what our systems see and leave true delivery
times alone. Every function takes day indices relative to the world start, so the windows
mean the same thing for every table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SCENARIOS: tuple[str, ...] = (
    "backlog_outage",
    "stale_scans",
    "new_carrier",
    "holiday_surge",
    "online_skew",
)

NEW_CARRIER = "newco"
NEW_CARRIER_SHARE = 0.15
# An unproven carrier: slightly worse than the average incumbent.
NEW_CARRIER_RELIABILITY = 0.80
OUTAGE_WAREHOUSES: tuple[str, ...] = ("WH-02", "WH-05", "WH-07")
STALE_CARRIER = "bluebox"
STALE_LAG_HOURS = (30.0, 48.0)
SURGE_BACKLOG_FACTOR = 2.5
SURGE_TRANSIT_FACTOR = 1.3
KM_PER_MILE = 1.609344


@dataclass(frozen=True)
class FaultWindow:
    """One fault scenario active on days ``[start_day, end_day)`` relative to the world start."""

    name: str
    start_day: int
    end_day: int


def window_problem(window: FaultWindow, days: int) -> str | None:
    """Say in one line what is wrong with ``window`` in a world of ``days`` days, if anything."""
    if window.name not in SCENARIOS:
        return f"unknown scenario {window.name!r}; known: {', '.join(SCENARIOS)}"
    if window.start_day >= window.end_day:
        return (
            f"fault window {window.name!r}: start_day {window.start_day} "
            f"must be before end_day {window.end_day}"
        )
    if window.start_day < 0 or window.end_day > days:
        return (
            f"fault window {window.name!r} [{window.start_day}, {window.end_day}) "
            f"is outside [0, {days})"
        )
    return None


def in_window(faults: Sequence[FaultWindow], name: str, day_index: np.ndarray) -> np.ndarray:
    """Mark which day indices fall inside any window of scenario ``name``."""
    mask = np.zeros(np.shape(day_index), dtype=bool)
    # Loops over the handful of configured windows, never over rows.
    for window in faults:
        if window.name == name:
            mask |= (day_index >= window.start_day) & (day_index < window.end_day)
    return mask


def backlog_factor(faults: Sequence[FaultWindow], hour_day_index: np.ndarray) -> np.ndarray:
    """Multiplier on the true warehouse backlog (the surge is real, not a feed error)."""
    surge = in_window(faults, "holiday_surge", hour_day_index)
    return np.where(surge, SURGE_BACKLOG_FACTOR, 1.0)


def transit_factor(faults: Sequence[FaultWindow], created_day_index: np.ndarray) -> np.ndarray:
    """Multiplier on line-haul time for shipments created during a surge."""
    surge = in_window(faults, "holiday_surge", created_day_index)
    return np.where(surge, SURGE_TRANSIT_FACTOR, 1.0)


def assign_new_carrier(
    faults: Sequence[FaultWindow],
    created_day_index: np.ndarray,
    carrier_index: np.ndarray,
    uniform: np.ndarray,
    new_carrier_index: int,
) -> np.ndarray:
    """Hand about 15% of the shipments created in a ``new_carrier`` window to "newco".

    ``uniform`` is drawn for every shipment whether or not the fault is on, so switching the
    fault on does not reshuffle the rest of the world.
    """
    takes_new = in_window(faults, "new_carrier", created_day_index) & (uniform < NEW_CARRIER_SHARE)
    return np.where(takes_new, new_carrier_index, carrier_index)


def blank_backlog_outage(
    faults: Sequence[FaultWindow],
    event_day_index: np.ndarray,
    warehouse: np.ndarray,
    backlog: np.ndarray,
) -> np.ndarray:
    """Return the reported backlog with NaN where the outage hides three warehouses."""
    hidden = in_window(faults, "backlog_outage", event_day_index) & np.isin(
        warehouse, OUTAGE_WAREHOUSES
    )
    return np.where(hidden, np.nan, backlog)


def delay_stale_scans(
    faults: Sequence[FaultWindow],
    scan_day_index: np.ndarray,
    carrier: np.ndarray,
    ingested_s: np.ndarray,
    scan_s: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Return ingestion times where one carrier's feed lags 30-48 h inside the window."""
    stale = in_window(faults, "stale_scans", scan_day_index) & (carrier == STALE_CARRIER)
    if not stale.any():
        return ingested_s
    low, high = STALE_LAG_HOURS
    lag_s = (rng.uniform(low, high, int(stale.sum())) * 3600).astype(np.int64)
    delayed = ingested_s.copy()
    delayed[stale] = scan_s[stale] + lag_s
    return delayed


def skew_stream_distance(
    faults: Sequence[FaultWindow], created_day_index: np.ndarray, distance_km: np.ndarray
) -> np.ndarray:
    """Distance as the online feed reports it: in miles inside an ``online_skew`` window."""
    skewed = in_window(faults, "online_skew", created_day_index)
    return np.where(skewed, distance_km / KM_PER_MILE, distance_km)
