"""Batch feature pipelines: derived tables Feast reads next to the raw ones.

Run by ``examples/flights/prepare.py`` after the raw tables are written (and again whenever
labels change). I/O happens only inside the function, never at import.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
from transforms import carrier_late_rate, origin_delay_board

log = logging.getLogger(__name__)

LOCAL_TZ = "America/New_York"
# The daily reliability job runs at 01:00 New York time; until then the previous day's rate
# is the newest one written.
DAILY_JOB_DELAY = pd.Timedelta(hours=1)
# The delay board is summarised every 15 minutes over the last hour and published five
# minutes later (on the replay clock's 5-minute grid, so online and offline agree).
BOARD_EVERY = pd.Timedelta(minutes=15)
BOARD_WINDOW = pd.Timedelta(hours=1)
BOARD_PUBLISH_DELAY = pd.Timedelta(minutes=5)


def build_batch_features(raw_dir: Path, derived_dir: Path) -> dict[str, Path]:
    """Compute every derived feature table from the raw tables and write it as parquet.

    Both tables are built only from what was known at their time: carrier rates from
    outcomes that had arrived before the day, the delay board from departures that had left.
    """
    schedule = pd.read_parquet(
        raw_dir / "flight_schedule.parquet", columns=["flight_id", "carrier", "sched_dep_at"]
    )
    outcomes = pd.read_parquet(
        raw_dir / "flight_outcomes.parquet",
        columns=["flight_id", "arrived_late", "label_available_at"],
    )
    labels = outcomes.merge(schedule[["flight_id", "carrier"]], on="flight_id", how="inner")
    labels = labels.rename(columns={"arrived_late": "late"})
    day_starts = local_midnights(
        schedule["sched_dep_at"].min(), labels["label_available_at"].max() + pd.Timedelta(days=1)
    )
    rates = carrier_late_rate(labels, day_starts)
    rates["created_at"] = rates["event_timestamp"] + DAILY_JOB_DELAY

    board = pd.read_parquet(raw_dir / "departure_board.parquet")
    grid = pd.date_range(
        board["sched_dep_at"].min().floor("D"),
        board["sched_dep_at"].max().ceil("D") + pd.Timedelta(days=1),
        freq=BOARD_EVERY,
    )
    delays = origin_delay_board(board, grid, BOARD_WINDOW, local_midnights(grid[0], grid[-1]))
    delays["created_at"] = delays["event_timestamp"] + BOARD_PUBLISH_DELAY

    derived_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, table in (("carrier_reliability", rates), ("origin_delay_board", delays)):
        for column in ("event_timestamp", "created_at"):
            table[column] = table[column].astype("datetime64[us, UTC]")
        paths[name] = derived_dir / f"{name}.parquet"
        table.to_parquet(paths[name], index=False)
        log.info("wrote %s rows to %s", len(table), paths[name])
    return paths


def local_midnights(first: pd.Timestamp, last: pd.Timestamp) -> pd.DatetimeIndex:
    """New York midnights from the day of ``first`` to the day of ``last``, as UTC instants.

    DST days are 23 or 25 hours long, so the days are built on the local calendar.
    """
    days = pd.date_range(
        first.tz_convert(LOCAL_TZ).date(), last.tz_convert(LOCAL_TZ).date(), freq="D"
    )
    return days.tz_localize(LOCAL_TZ).tz_convert("UTC")
