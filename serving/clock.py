"""Replay history through the online store as it was known at each moment.

Materializing a past window by event time loads values that were written later (late scans,
backlog corrections) and so hides exactly the faults monitoring must catch. Here every online
view is fed by *write time* (its source's created column, else its event time): at clock
time ``t`` the online store holds exactly the rows written at or before ``t``, in the order
they were written. Push-sourced views read their real-time feed table when settings name
one (``serving.feeds``), so a stream that disagrees with the batch table shows up online.

Requests are sent in steps: the store is advanced to the step's start, then the step's
prediction events are scored, each with its own prediction time.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from ontime.errors import OntimeError
from ontime.tables import read_between

log = logging.getLogger(__name__)

# A replay starts at its first event's step, which can be a step before ``since``.
START_MARGIN = timedelta(hours=1)


@dataclass
class Feed:
    """One online view and the rows that feed it, ordered by write time."""

    view: str
    rows: pd.DataFrame
    written: pd.Series
    ttl: timedelta
    position: int = 0


def _feed_for(
    view, feeds: dict[str, Path], since=None, until=None, wanted: pd.DataFrame | None = None
) -> Feed:
    """The view's feed, read only for writes in [``since`` - TTL, ``until``] when given,
    and only for the entity keys in ``wanted`` when it names all the view's keys."""
    from feast.data_source import PushSource

    stream = view.stream_source
    batch = view.batch_source
    path = Path(batch.path)
    if isinstance(stream, PushSource) and stream.name in feeds:
        path = Path(feeds[stream.name])
    if not path.exists():
        raise OntimeError(f"feed table for view '{view.name}' not found: {path}")
    write_column = batch.created_timestamp_column or batch.timestamp_field
    keys = [column.name for column in view.entity_columns]
    columns = list(
        dict.fromkeys(
            [*keys, batch.timestamp_field, write_column, *(f.name for f in view.features)]
        )
    )
    ttl = view.ttl or timedelta(days=30)
    floor = None if since is None else pd.Timestamp(since) - ttl - START_MARGIN
    if wanted is not None and set(keys) <= set(wanted.columns) and keys:
        wanted = wanted[keys].drop_duplicates()
    else:  # a view keyed by columns the events lack: every key may be asked for
        wanted = None
    rows = read_between(path, write_column, floor, until, columns, True, wanted)
    written = pd.to_datetime(rows[write_column], utc=True)
    order = written.argsort(kind="stable")
    rows = rows.iloc[order].reset_index(drop=True)
    return Feed(view.name, rows, written.iloc[order].reset_index(drop=True), ttl)


class OnlineClock:
    """Moves the online store forward in time, one write-time slice per view.

    ``since`` and ``until`` bound the replay when known: each feed is then read only for
    rows written from one TTL before ``since`` up to ``until`` (older rows have expired by
    the first event, later ones are never reached), so one window costs the same whatever
    the length of the history.

    ``keys``, when given, are the entity keys the replay will ask for (its events' key
    columns): each feed then holds only their rows. Every key keeps its own rows in write
    order, so after each advance the online value of every asked key is the one writing the
    whole feed gives, for a last-write-wins store and for one that keeps the latest event
    time alike; keys never asked for are not written at all.
    """

    def __init__(
        self,
        store,
        feeds: dict[str, Path] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        keys: pd.DataFrame | None = None,
    ) -> None:
        self.store = store
        self.since = None if since is None else pd.Timestamp(since)
        self.until = None if until is None else pd.Timestamp(until)
        views = [v for v in store.list_feature_views() if v.online]
        self.feeds = [_feed_for(view, feeds or {}, since, until, keys) for view in views]
        self.now: pd.Timestamp | None = None

    def start_at(self, moment: datetime) -> None:
        """Skip rows written more than one view TTL before ``moment`` (they have expired)."""
        if self.since is not None and pd.Timestamp(moment) < self.since - START_MARGIN:
            raise OntimeError(f"the online clock was read from {self.since}, not {moment}")
        for feed in self.feeds:
            floor = pd.Timestamp(moment) - feed.ttl
            feed.position = int(feed.written.searchsorted(floor, side="left"))

    def advance(self, moment: datetime) -> int:
        """Write every row with write time <= ``moment`` not yet written; return the count."""
        moment = pd.Timestamp(moment)
        if self.until is not None and moment > self.until:
            raise OntimeError(f"the online clock was read up to {self.until}, not {moment}")
        total = 0
        for feed in self.feeds:
            stop = int(feed.written.searchsorted(moment, side="right"))
            if stop > feed.position:
                chunk = feed.rows.iloc[feed.position : stop]
                self.store.write_to_online_store(feed.view, chunk)
                total += stop - feed.position
                feed.position = stop
        self.now = moment
        return total


def replay_with_clock(
    clock: OnlineClock,
    base_url: str,
    events: pd.DataFrame,
    keys: list[str],
    time_column: str,
    step: timedelta = timedelta(minutes=5),
    progress: Callable[[int], None] | None = None,
    passthrough: Sequence[str] = (),
    failures: list[tuple[int, str, str]] | None = None,
) -> Counter:
    """Score ``events`` in time order, advancing the online store step by step.

    ``passthrough`` columns of the events go with each request; ``failures`` collects
    (event position, status, detail) of every row not answered 200.

    A fresh clock starts one TTL before the first event; windows replayed one after another
    must come in time order, because the store only moves forward.
    """
    from serving.replay import connect, request_rows, send

    if events.empty:
        raise OntimeError("no prediction events in the replay window")
    times = pd.to_datetime(events[time_column], utc=True)
    buckets = times.dt.floor(pd.Timedelta(step))
    if clock.now is None:
        clock.start_at(buckets.min())
    elif buckets.min() < clock.now:
        raise OntimeError(f"cannot replay {buckets.min()}: the online store is at {clock.now}")
    counts: Counter = Counter()
    sent = 0
    with connect(base_url) as client:  # one connection and one readiness check per replay
        for bucket, chunk in events.groupby(buckets, sort=True):
            clock.advance(bucket)
            rows = request_rows(chunk, keys, time_column, passthrough)
            failed: list[tuple[int, str, str]] = []
            counts.update(send(client, rows, progress=progress, failures=failed))
            if failures is not None:
                failures += [(sent + index, status, detail) for index, status, detail in failed]
            sent += len(rows)
    return counts
