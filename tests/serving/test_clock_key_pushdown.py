"""A replay clock told its events' keys feeds only their rows, and the online store then
answers those keys exactly as after feeding every row."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from ontime.repo import describe_service, open_store
from ontime.settings import load_settings
from ontime.tables import read_between
from serving.clock import OnlineClock
from tests.serving.conftest import SERVICE, copy_world


class Recording:
    """The real store's views; each write kept with the clock time it was made at."""

    def __init__(self, store) -> None:
        self.store = store
        self.now: pd.Timestamp | None = None
        self.writes: dict[tuple[pd.Timestamp, str], pd.DataFrame] = {}

    def list_feature_views(self):
        return self.store.list_feature_views()

    def write_to_online_store(self, view: str, rows: pd.DataFrame) -> None:
        self.writes[self.now, view] = rows.reset_index(drop=True)


def window_of(settings, hours: int = 6) -> tuple[pd.DataFrame, pd.DatetimeIndex, list[str]]:
    """A few hours of events late in the world, the clock's steps, and the service's keys."""
    store = open_store(settings.feature_repo)
    keys = list(describe_service(store, SERVICE).entity_keys)
    time_column = settings.events.time_column
    events = pd.read_parquet(settings.events.table, columns=[*keys, time_column])
    times = pd.to_datetime(events[time_column], utc=True)
    since = (times.min() + (times.max() - times.min()) * 0.7).floor("5min")
    until = since + timedelta(hours=hours)
    chosen = events[((times >= since) & (times < until)).to_numpy()].reset_index(drop=True)
    steps = pd.date_range(since, until, freq="5min")[:-1]
    return chosen, steps, keys


def run(clock: OnlineClock, recording: Recording, steps: pd.DatetimeIndex) -> None:
    clock.start_at(steps[0])
    for step in steps:
        recording.now = step
        clock.advance(step)


def of_keys(rows: pd.DataFrame, events: pd.DataFrame, view_keys: list[str]) -> pd.DataFrame:
    asked = events[view_keys].drop_duplicates()
    kept = rows.merge(asked, on=view_keys, how="left", indicator=True)["_merge"] == "both"
    return rows[kept.to_numpy()].reset_index(drop=True)


def test_a_keyed_clock_writes_the_asked_keys_rows_at_the_same_steps(world):
    settings = load_settings(world.config)
    store = open_store(settings.feature_repo)
    events, steps, keys = window_of(settings)
    since, until = steps[0], steps[-1]
    whole, keyed = Recording(store), Recording(store)
    run(OnlineClock(whole, settings.serving.feeds, since, until), whole, steps)
    run(OnlineClock(keyed, settings.serving.feeds, since, until, events[keys]), keyed, steps)

    views = {v.name: [c.name for c in v.entity_columns] for v in store.list_feature_views()}
    narrowed = 0
    for (step, view), rows in whole.writes.items():
        expected = of_keys(rows, events, views[view])
        got = keyed.writes.get((step, view), rows.iloc[0:0].reset_index(drop=True))
        pd.testing.assert_frame_equal(got, expected, check_index_type=False)
        narrowed += len(rows) - len(expected)
    assert set(keyed.writes) <= set(whole.writes)
    # The warm-up is where the history was: most of its rows are other keys' rows.
    assert narrowed > sum(len(rows) for rows in keyed.writes.values()) > 0


def test_the_online_store_answers_the_asked_keys_as_after_the_full_feed(world, tmp_path):
    settings = load_settings(world.config)
    events, steps, keys = window_of(settings, hours=2)
    since, until = steps[0], steps[-1]
    answers = []
    for name, asked in (("whole", None), ("keyed", events[keys])):
        copy = copy_world(world, tmp_path / name)
        mine = load_settings(copy.config)
        store = open_store(mine.feature_repo)
        clock = OnlineClock(store, mine.serving.feeds, since, until, asked)
        clock.start_at(since)
        clock.advance(until)
        stored = {view.name for view in store.list_feature_views()}
        refs = [
            r for r in describe_service(store, SERVICE).feature_refs if r.split(":")[0] in stored
        ]
        rows = events[keys].drop_duplicates().reset_index(drop=True)
        online = store.get_online_features(refs, rows.to_dict(orient="list")).to_df()
        answers.append(online.sort_values(keys).reset_index(drop=True))
    assert answers[0].notna().sum().sum() > len(answers[0])  # the keys do have values
    pd.testing.assert_frame_equal(answers[0], answers[1])


def test_read_between_keeps_the_key_combinations_not_each_key_alone(tmp_path):
    path = tmp_path / "feed.parquet"
    at = pd.Timestamp("2026-07-01", tz="UTC")
    pd.DataFrame(
        {
            "carrier": ["a", "a", "b", "b"],
            "origin": [1, 2, 1, 2],
            "written": [at, at, at, at - timedelta(days=2)],
            "value": [10.0, 11.0, 12.0, 13.0],
        }
    ).to_parquet(path)
    asked = pd.DataFrame({"carrier": ["a", "b", "b"], "origin": [1, 2, None]})
    rows = read_between(path, "written", at - timedelta(days=1), None, ["value"], keys=asked)
    # (a, 2) and (b, 1) are each column's values but not asked combinations; (b, 2) is
    # asked but written before the range.
    assert rows["value"].tolist() == [10.0]
    assert list(rows.columns) == ["value"]
