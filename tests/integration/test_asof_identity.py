"""Property: the as-of plugin returns exactly the rows Feast's own DuckDB store returns.

Hypothesis writes small random sources into a synthetic repo (tests/integration/asof_repo.py)
and asks both stores for the same entity frame. The sources are built to hit every edge of
a point-in-time join: equal event times, late writes that land after the prediction time,
corrections of old events, prediction times exactly at an event's TTL and one microsecond
past it, at a write time and one microsecond before it, NULL values, NULL write times, NULL
keys, keys that never appear on one side, and three views (two keyed by the same entity).
Rows must be equal in values and dtypes, through ``to_df`` and ``to_arrow``, with
``filter_by_created_timestamp`` on and off and with full feature names on and off.

A second property draws sources with one row per key, which the plugin joins without a
timeline. Only exact duplicates are excluded: two rows of one key with equal event and write times
(equal event times, for the view without a write-time column) are a tie that Feast's own
join breaks arbitrarily, so no store can match it row for row.
"""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import ibis
import pandas as pd
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ontime.feast_plugins import asof_query, view_joins
from ontime.feast_plugins.asof_query import AsofRetrievalJob
from tests.integration.asof_repo import BASE, SERVICE, USER_TTL, ZONE_TTL, build_repo, us

pytestmark = pytest.mark.integration

USERS = ["u0", "u1", "u2"]
ZONES = [1, 2, 3]
ONE_US = timedelta(microseconds=1)
minutes = st.integers(min_value=0, max_value=40)
# Mostly written soon after the event, sometimes long after (a late write or a correction),
# sometimes before it (an event scheduled ahead), sometimes with no write time at all.
write_delay = st.one_of(
    st.sampled_from([0, 0, 1, 2]), st.integers(-3, 60), st.none()
)  # fmt: skip


def _at(minute: int | None, delay: int | None = 0):
    if minute is None or delay is None:
        return None
    return BASE + timedelta(minutes=minute + delay)


stats_rows = st.lists(
    st.tuples(
        st.sampled_from([*USERS, None]), st.one_of(minutes, st.none()), write_delay,
        st.one_of(st.floats(-5, 5, allow_nan=False), st.none()),
        st.sampled_from(["gold", "silver", None]),
    ),
    max_size=25,
)  # fmt: skip
load_rows = st.lists(
    st.tuples(
        st.sampled_from(ZONES), minutes, write_delay, st.one_of(st.integers(0, 9), st.none())
    ),
    max_size=15,
)
profile_rows = st.lists(
    st.tuples(st.sampled_from(USERS), minutes, st.one_of(st.floats(0, 3), st.none())),
    max_size=10,
)  # fmt: skip


def _frames(stats, loads, profiles) -> dict[str, pd.DataFrame]:
    """Source tables from drawn tuples, exact duplicates (a tie in Feast too) dropped."""
    user_stats = pd.DataFrame(
        {
            "user_id": pd.Series([r[0] for r in stats], dtype="string"),
            "ts": us([_at(r[1]) for r in stats]),
            "written_at": us([_at(r[1], r[2]) for r in stats]),
            "score": pd.Series([r[3] for r in stats], dtype="float64"),
            "label": pd.Series([r[4] for r in stats], dtype="string"),
        }
    ).drop_duplicates(["user_id", "ts", "written_at"])
    zone_load = pd.DataFrame(
        {
            "zone_id": pd.Series([r[0] for r in loads], dtype="int64"),
            "event_time": us([_at(r[1]) for r in loads]),
            "loaded_at": us([_at(r[1], r[2]) for r in loads]),
            "load": pd.Series([r[3] for r in loads], dtype="Int64"),
        }
    ).drop_duplicates(["zone_id", "event_time", "loaded_at"])
    user_profile = pd.DataFrame(
        {
            "user_id": [r[0] for r in profiles],
            "ts": us([_at(r[1]) for r in profiles]),
            "tier": pd.Series([r[2] for r in profiles], dtype="float64"),
        }
    ).drop_duplicates(["user_id", "ts"])
    return {"user_stats": user_stats, "zone_load": zone_load, "user_profile": user_profile}


def _edges(keys: pd.Series, events: pd.Series, written: pd.Series | None, ttl) -> list:
    """(key, prediction time) on every edge a source row defines, for that row's own key:
    at its event time and just before, exactly at its TTL and 1 µs past, at its write time
    and just before."""
    edges = []
    for i in range(len(keys)):
        key, event = keys.iloc[i], events.iloc[i]
        if pd.isna(key) or pd.isna(event):
            continue
        times = [event, event - ONE_US]
        if ttl:
            times += [event + ttl, event + ttl + ONE_US]
        if written is not None and not pd.isna(written.iloc[i]):
            times += [written.iloc[i], written.iloc[i] - ONE_US]
        edges += [(key, t) for t in times]
    return edges


KEYS = {"user_stats": ["user_id"], "zone_load": ["zone_id"], "user_profile": ["user_id"]}


@st.composite
def worlds(draw, one_per_key: bool = False):
    frames = _frames(draw(stats_rows), draw(load_rows), draw(profile_rows))
    if one_per_key:  # one row per key: the plugin joins these without a timeline
        frames = {name: f.drop_duplicates(KEYS[name]) for name, f in frames.items()}
    stats, loads, profiles = frames["user_stats"], frames["zone_load"], frames["user_profile"]
    user_edges = _edges(stats["user_id"], stats["ts"], stats["written_at"], USER_TTL)
    user_edges += _edges(profiles["user_id"], profiles["ts"], None, None)
    zone_edges = _edges(loads["zone_id"], loads["event_time"], loads["loaded_at"], ZONE_TTL)
    grid = [BASE + timedelta(minutes=m) for m in range(0, 80, 3)]
    any_user = st.sampled_from([*USERS, "ghost", None])
    any_zone = st.sampled_from([*ZONES, 99])
    rows = []
    for _ in range(draw(st.integers(1, 30))):
        # Most asks sit on an edge of a source row of their own key, where an off-by-one
        # shows; the rest are anywhere, for any key, including keys no source has.
        kind = draw(st.sampled_from(["user edge", "zone edge", "anywhere"]))
        if kind == "user edge" and user_edges:
            (user, at), zone = draw(st.sampled_from(user_edges)), draw(any_zone)
        elif kind == "zone edge" and zone_edges:
            (zone, at), user = draw(st.sampled_from(zone_edges)), draw(any_user)
        else:
            user, zone, at = draw(any_user), draw(any_zone), draw(st.sampled_from(grid))
        rows.append((user, zone, at, draw(st.floats(0, 1e6))))
    if rows[0][0] is None:  # one named user keeps the key column text, as in real frames
        rows[0] = ("ghost", *rows[0][1:])
    entities = pd.DataFrame(rows, columns=["user_id", "zone_id", "event_timestamp", "asked_s"])
    entities["zone_id"] = entities["zone_id"].astype("int64")
    entities["event_timestamp"] = us(entities["event_timestamp"])
    entities["row"] = range(len(rows))  # a unique column to line both results up
    return frames, entities, draw(st.booleans()), draw(st.booleans())


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return build_repo(tmp_path_factory.mktemp("asof_identity"))


def _retrieve(store, entities, cutoff: bool, full_names: bool):
    return store.get_historical_features(
        entity_df=entities,
        features=store.get_feature_service(SERVICE),
        full_feature_names=full_names,
        filter_by_created_timestamp=cutoff,
    )


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds())
def test_plugin_rows_equal_feast_rows(repo, world):
    _assert_same_rows(repo, world)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds(one_per_key=True))
def test_one_row_per_key_rows_equal_feast_rows(repo, world):
    with mock.patch.object(asof_query, "only_pick", wraps=asof_query.only_pick) as spy:
        _assert_same_rows(repo, world)
    # The plugin's default store took the one-row join for all three views.
    assert spy.call_count == 3


def _assert_same_rows(repo, world) -> None:
    frames, entities, cutoff, full_names = world
    for name, frame in frames.items():
        repo.write(name, frame)
    expected = _retrieve(repo.feast_store, entities.copy(), cutoff, full_names)
    want = expected.to_df().sort_values("row").reset_index(drop=True)
    want_arrow = expected.to_arrow()
    order = [("row", "ascending")]
    for store in (repo.plugin_store, repo.timeline_store):  # both of the plugin's joins
        actual = _retrieve(store, entities.copy(), cutoff, full_names)
        assert isinstance(actual, AsofRetrievalJob), "the plugin fell back to Feast's join"

        got = actual.to_df()
        assert got["row"].tolist() == entities["row"].tolist()  # the entity frame's order
        got = got.sort_values("row").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, want, check_exact=True)

        got_arrow = actual.to_arrow()
        assert got_arrow.schema.equals(want_arrow.schema)
        assert got_arrow.take(pc.sort_indices(got_arrow, order)).equals(
            want_arrow.take(pc.sort_indices(want_arrow, order))
        )


def test_one_row_requests_on_every_edge_equal_feast_rows(repo):
    """A request of one row reads its sources tightest: only rows from its time less the
    TTL up to its time. Asked on each edge of each source row (at the TTL, 1 µs past it, at
    the write time, 1 µs before it), alone, the rows still equal Feast's."""
    stats = [("u0", 0, 0, 1.0, "gold"), ("u0", 5, 2, 2.0, None), ("u0", 9, 30, 3.0, "silver"),
             ("u1", 3, 0, 4.0, "gold"), ("u1", 3, 7, 5.0, "gold")]  # fmt: skip
    loads = [(1, 0, 1, 7), (1, 20, 0, 8), (2, 4, 40, 9)]
    profiles = [("u0", 1, 1.5), ("u1", 30, 2.5)]
    frames = _frames(stats, loads, profiles)
    s, z, p = frames["user_stats"], frames["zone_load"], frames["user_profile"]
    edges = [(user, 1, at) for user, at in _edges(s["user_id"], s["ts"], s["written_at"], USER_TTL)]
    edges += [(user, 1, at) for user, at in _edges(p["user_id"], p["ts"], None, None)]
    zone_edges = _edges(z["zone_id"], z["event_time"], z["loaded_at"], ZONE_TTL)
    edges += [("u0", zone, at) for zone, at in zone_edges]
    for user, zone, at in edges:
        entities = pd.DataFrame(
            {"user_id": [user], "zone_id": [zone], "event_timestamp": [at], "asked_s": [1.0]}
        )
        entities["zone_id"] = entities["zone_id"].astype("int64")
        entities["event_timestamp"] = us(entities["event_timestamp"])
        entities["row"] = [0]
        for cutoff in (True, False):
            _assert_same_rows(repo, (frames, entities, cutoff, False))


def test_keys_sharing_a_hash_still_get_only_their_own_rows(repo, monkeypatch):
    """Deep views ASOF-join on their key's hash. Under a hash so weak that keys collide (one
    bit), a key asked for that shares a hash with a source key, but has no rows of its own,
    still gets nothing, and a source whose own keys collide takes the plain join."""
    backend = ibis.get_backend()
    backend.raw_sql("CREATE OR REPLACE MACRO ontime_one_bit(x) AS hash(x) % 2")
    monkeypatch.setattr(view_joins, "KEY_HASH", "ontime_one_bit")

    def bit(value) -> int:
        literal = f"'{value}'" if isinstance(value, str) else f"{value}::BIGINT"
        return backend.raw_sql(f"SELECT hash({literal}) % 2").fetchall()[0][0]

    def two_apart_and_a_twin(candidates):
        """Two keys with different bits, and a third sharing the first one's bit."""
        first = candidates[0]
        other = next(c for c in candidates if bit(c) != bit(first))
        twin = next(c for c in candidates[1:] if bit(c) == bit(first) and c != other)
        return first, other, twin

    users = two_apart_and_a_twin([*USERS, *(f"user{i}" for i in range(20))])
    zones = two_apart_and_a_twin([*ZONES, *range(4, 40)])
    # Two rows a key: one row per key would be joined without an ASOF join.
    stats = [(users[0], 0, 0, 1.0, "gold"), (users[0], 3, 0, 1.5, None),
             (users[1], 2, 0, 2.0, None), (users[1], 4, 9, 2.5, "gold")]  # fmt: skip
    loads = [(zones[0], 0, 0, 7), (zones[0], 2, 0, 6), (zones[1], 1, 0, 8), (zones[1], 3, 0, 5)]
    frames = _frames(stats, loads, [])
    asks = [(u, z) for u in users for z in zones]
    entities = pd.DataFrame(
        {
            "user_id": [u for u, _ in asks],
            "zone_id": pd.Series([z for _, z in asks], dtype="int64"),
            "event_timestamp": us([BASE + timedelta(minutes=5)] * len(asks)),
            "asked_s": 1.0,
        }
    )
    entities["row"] = range(len(asks))
    hashed = []
    real = view_joins._hashable

    def spy(*args):
        hashed.append(real(*args))
        return hashed[-1]

    monkeypatch.setattr(view_joins, "_hashable", spy)
    _assert_same_rows(repo, (frames, entities, False, False))
    assert hashed == [True, True]  # both views took the hashed join (the default store)

    hashed.clear()  # a third user colliding with one of the two: the plain join
    third = [(users[2], 1, 0, 3.0, "silver"), (users[2], 2, 0, 3.5, None)]
    frames = _frames([*stats, *third], loads, [])
    _assert_same_rows(repo, (frames, entities, False, False))
    assert hashed == [False, True]

    # A NULL key hashes too; counted, it would hide two keys sharing a hash.
    backend.raw_sql("CREATE OR REPLACE MACRO ontime_two_bits(x) AS hash(x) % 4")
    monkeypatch.setattr(view_joins, "KEY_HASH", "ontime_two_bits")
    null_bits = backend.raw_sql("SELECT hash(NULL::VARCHAR) % 4").fetchall()[0][0]
    names = [f"user{i}" for i in range(40)]
    bits = {n: backend.raw_sql(f"SELECT hash('{n}') % 4").fetchall()[0][0] for n in names}
    first = next(n for n in names if bits[n] != null_bits)
    twin = next(n for n in names if n != first and bits[n] == bits[first])
    stats = [(first, 0, 0, 1.0, "gold"), (first, 3, 0, 1.5, None), (twin, 2, 0, 2.0, None),
             (twin, 4, 0, 2.5, "gold"), (None, 1, 0, 9.0, "silver")]  # fmt: skip
    asks = entities.assign(user_id=[(first, twin, "ghost")[i % 3] for i in range(len(asks))])
    hashed.clear()
    _assert_same_rows(repo, (_frames(stats, loads, []), asks, False, False))
    assert hashed[0] is False
