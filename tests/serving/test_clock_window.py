"""A replay clock bounded to its window writes exactly what an unbounded one writes, and
reads only the feed rows written from one TTL before the window to its end."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from ontime.errors import OntimeError
from ontime.repo import open_store
from ontime.settings import load_settings
from serving.clock import START_MARGIN, OnlineClock


class Recording:
    """The real store's views; the rows each clock would write, kept instead of written."""

    def __init__(self, store) -> None:
        self.store = store
        self.writes: list[tuple[str, pd.DataFrame]] = []

    def list_feature_views(self):
        return self.store.list_feature_views()

    def write_to_online_store(self, view: str, rows: pd.DataFrame) -> None:
        self.writes.append((view, rows.reset_index(drop=True)))


def test_a_bounded_clock_writes_what_the_unbounded_one_writes(world):
    settings = load_settings(world.config)
    store = open_store(settings.feature_repo)
    events = pd.read_parquet(settings.events.table, columns=[settings.events.time_column])
    times = pd.to_datetime(events[settings.events.time_column], utc=True)
    since = times.min() + (times.max() - times.min()) * 0.6
    until = since + timedelta(hours=20)
    steps = pd.date_range(since.floor("5min"), until, freq="5min")[:-1]

    whole, bounded = Recording(store), Recording(store)
    clocks = [
        OnlineClock(whole, settings.serving.feeds),
        OnlineClock(bounded, settings.serving.feeds, since, until),
    ]
    for clock in clocks:
        clock.start_at(steps[0])
        for step in steps:
            clock.advance(step)
    assert len(whole.writes) == len(bounded.writes) > 10
    for (view_a, rows_a), (view_b, rows_b) in zip(whole.writes, bounded.writes, strict=True):
        assert view_a == view_b
        pd.testing.assert_frame_equal(rows_a, rows_b)

    for full, part in zip(clocks[0].feeds, clocks[1].feeds, strict=True):
        floor = since - full.ttl - START_MARGIN
        in_reach = ((full.written >= floor) & (full.written <= until)).sum()
        assert len(part.rows) == in_reach < len(full.rows)


def test_a_bounded_clock_refuses_moments_outside_what_it_read(world):
    settings = load_settings(world.config)
    store = Recording(open_store(settings.feature_repo))
    events = pd.read_parquet(settings.events.table, columns=[settings.events.time_column])
    since = pd.to_datetime(events[settings.events.time_column], utc=True).median()
    clock = OnlineClock(store, settings.serving.feeds, since, since + timedelta(hours=2))
    with pytest.raises(OntimeError, match="read from"):
        clock.start_at(since - timedelta(days=1))
    clock.start_at(since)
    with pytest.raises(OntimeError, match="read up to"):
        clock.advance(since + timedelta(hours=3))
