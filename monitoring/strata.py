"""Strata of the clock: a window's mix of hours and weekdays, so like is compared with like.

Scores and base rates move with the hour of day and the day of the week (night orders,
Monday's weekend backlog). A window of weekday nights must be compared with the reference's
weekday nights, not with its whole period: every comparison that has a reference
distribution reweights it to the window's mix of strata.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ontime.settings.monitoring import ProfileSettings


def stratum_count(settings: ProfileSettings) -> int:
    """How many strata (hour blocks x day groups) the settings define."""
    return _blocks(settings) * len(settings.day_groups)


def hour_block_count(settings: ProfileSettings) -> int:
    """How many blocks of the hour of day there are (the backoff strata)."""
    return _blocks(settings)


def strata(times: pd.Series | pd.DatetimeIndex, settings: ProfileSettings) -> np.ndarray:
    """Each timestamp's stratum: ``day_group * hour_blocks + hour_block`` (UTC clock)."""
    stamps = pd.DatetimeIndex(pd.to_datetime(times, utc=True))
    block = stamps.hour.to_numpy() // settings.hour_block_hours
    group_of_day = np.empty(7, dtype=np.int64)
    for index, group in enumerate(settings.day_groups):
        group_of_day[group] = index
    group = group_of_day[stamps.weekday.to_numpy()]
    if settings.holidays:
        # A closed day is compared with the last day group (by default Sunday's).
        closed = np.isin(stamps.date, np.array(settings.holidays, dtype=object))
        group = np.where(closed, len(settings.day_groups) - 1, group)
    return group * _blocks(settings) + block


def main_group(times: pd.Series | pd.DatetimeIndex, settings: ProfileSettings) -> int | None:
    """The day group most of these times fall in (None without times)."""
    groups = strata(times, settings) // _blocks(settings)
    return int(np.bincount(groups).argmax()) if groups.size else None


def backoff(stratum: np.ndarray, settings: ProfileSettings) -> np.ndarray:
    """The hour block of each stratum, pooled over day groups."""
    return np.asarray(stratum) % _blocks(settings)


def _blocks(settings: ProfileSettings) -> int:
    return -(-24 // settings.hour_block_hours)
