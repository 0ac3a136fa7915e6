"""The as-of plugin on real repos: same rows as Feast's DuckDB store, and the rest unchanged.

- the default world (the small simulated one every integration test shares) and the
  second domain (tests/fixtures/second_domain), with ``filter_by_created_timestamp`` on, as
  training asks, and off, Feast's default;
- a request the plugin does not support goes to Feast's own join, saying so at DEBUG;
- saved datasets and materialization, which the plugin leaves to the DuckDB store, work.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from datetime import timedelta

import pandas as pd
import pytest

from ontime.feast_plugins.asof_query import AsofRetrievalJob
from ontime.features import entity_frame, historical_rows
from ontime.repo import describe_service, load_contract
from tests.conftest import ROOT
from tests.integration.asof_repo import BASE, SERVICE, all_stores, build_repo, us

pytestmark = pytest.mark.integration


def _rows(store, service: str, entities: pd.DataFrame, cutoff: bool) -> pd.DataFrame:
    """Feature rows in entity-frame order, asserting which join served them."""
    job = store.get_historical_features(
        entity_df=entities.assign(_row=range(len(entities))),
        features=store.get_feature_service(service),
        filter_by_created_timestamp=cutoff,
    )
    plugin = type(store._get_provider().offline_store).__name__ == "AsofDuckDBOfflineStore"
    assert isinstance(job, AsofRetrievalJob) == plugin
    return job.to_df().sort_values("_row").reset_index(drop=True)


def _assert_same_rows(repo, folder, service: str, events, time_column: str) -> int:
    feast_store, *plugin_stores = all_stores(repo, folder)
    spec = describe_service(feast_store, service)
    contract = load_contract(repo)
    entities = entity_frame(events, spec, time_column, contract.request_time_field)
    with_cutoff = historical_rows(feast_store, spec, entities)
    without_cutoff = _rows(feast_store, service, entities, cutoff=False)
    for plugin_store in plugin_stores:
        # Training's own path (filter_by_created_timestamp=True) ...
        pd.testing.assert_frame_equal(
            historical_rows(plugin_store, spec, entities), with_cutoff, check_exact=True
        )
        # ... and Feast's default semantics.
        pd.testing.assert_frame_equal(
            _rows(plugin_store, service, entities, cutoff=False), without_cutoff, check_exact=True
        )
    return len(entities)


def test_default_world_rows_are_feasts_rows(applied_repo, tmp_path):
    events = applied_repo.table("prediction_events")
    compared = _assert_same_rows(
        applied_repo.repo, tmp_path, "late_delivery_v1", events, "prediction_time"
    )
    assert compared == len(events) > 1000


@pytest.fixture(scope="module")
def helpdesk(tmp_path_factory):
    from tests.training.test_second_domain import SETTINGS, write_world

    base = tmp_path_factory.mktemp("helpdesk_asof")
    repo = base / "repo"
    shutil.copytree(
        ROOT / "tests/fixtures/second_domain", repo, ignore=shutil.ignore_patterns("__pycache__")
    )
    write_world(repo / "data")
    (base / "ontime.yaml").write_text(SETTINGS)
    subprocess.run(
        [sys.executable, "-m", "ontime_cli", "--config", str(base / "ontime.yaml"), "apply"],
        cwd=base,
        check=True,
        capture_output=True,
    )
    return repo


def test_second_domain_rows_are_feasts_rows(helpdesk, tmp_path):
    tickets = pd.read_parquet(helpdesk / "data" / "tickets.parquet")
    compared = _assert_same_rows(helpdesk, tmp_path, "escalation_v1", tickets, "opened_at")
    assert compared == len(tickets) > 1000


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    repo = build_repo(tmp_path_factory.mktemp("asof_probe"))
    at = us([BASE, BASE + pd.Timedelta(minutes=5), BASE + pd.Timedelta(minutes=9)])
    repo.write(
        "user_stats",
        pd.DataFrame(
            {"user_id": ["u1", "u1", "u2"], "ts": at, "written_at": at + pd.Timedelta(minutes=1),
             "score": [1.0, 2.0, 3.0], "label": ["a", "b", None]}
        ),
    )  # fmt: skip
    repo.write(
        "zone_load",
        pd.DataFrame(
            {"zone_id": [1, 1, 2], "event_time": at, "loaded_at": at,
             "load": pd.Series([4, None, 6], dtype="Int64")}
        ),
    )  # fmt: skip
    repo.write("user_profile", pd.DataFrame({"user_id": ["u1"], "ts": at[:1], "tier": [2.0]}))
    return repo


def _probe_entities(**override) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": ["u1", "u2", "u3"],
            "zone_id": [1, 2, 1],
            "event_timestamp": us([BASE + pd.Timedelta(minutes=m) for m in (7, 12, 3)]),
            "asked_s": [10.0, 20.0, 30.0],
            **override,
        }
    )


def test_unsupported_request_is_served_by_feasts_join(probe, caplog):
    # A renamed source column (field_mapping) is outside what the plugin has proven.
    features = ["user_rank:rank", "user_stats:score"]
    entities = _probe_entities()
    with caplog.at_level(logging.DEBUG, logger="ontime.feast_plugins.asof_store"):
        job = probe.plugin_store.get_historical_features(entity_df=entities, features=features)
    assert not isinstance(job, AsofRetrievalJob)
    assert "Feast's DuckDB join serves this request" in caplog.text
    assert "'user_rank' source has a field mapping" in caplog.text
    expected = probe.feast_store.get_historical_features(entity_df=entities, features=features)
    got = job.to_df().sort_values("user_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(
        got, expected.to_df().sort_values("user_id").reset_index(drop=True)
    )
    assert got["rank"].fillna(-1.0).tolist() == [2.0, -1.0, -1.0]


def test_an_entity_column_with_the_reserved_prefix_is_served_by_feasts_join(probe, caplog):
    # The plugin numbers entity rows in a column of its own; a caller's column of that name
    # would be overwritten, so Feast's join serves the request, and the column comes back.
    entities = _probe_entities(__asof_row=[5, 6, 7])
    features = ["user_stats:score"]
    with caplog.at_level(logging.DEBUG, logger="ontime.feast_plugins.asof_store"):
        job = probe.plugin_store.get_historical_features(entity_df=entities, features=features)
    assert not isinstance(job, AsofRetrievalJob)
    assert "reserved prefix __asof_" in caplog.text
    assert sorted(job.to_df()["__asof_row"]) == [5, 6, 7]


@pytest.mark.parametrize("key", [None, float("nan")])
def test_entity_columns_come_back_as_feasts_and_apart_from_the_callers(probe, key):
    # The plugin puts the caller's entity text beside its feature columns instead of
    # carrying it through the query. A null key must still come back as Feast returns it
    # (None, also for a NaN), and the result must not write through to the caller's frame.
    entities = _probe_entities(user_id=["u1", key, "u3"])
    features = ["user_stats:score", "zone_load:load"]
    frames = []
    for store in (probe.feast_store, probe.plugin_store):
        job = store.get_historical_features(
            entity_df=entities, features=features, filter_by_created_timestamp=True
        )
        frames.append(job.to_df().sort_values("asked_s").reset_index(drop=True))
    feast, plugin = frames
    assert isinstance(job, AsofRetrievalJob)
    pd.testing.assert_frame_equal(plugin, feast, check_exact=True)
    assert [type(v) for v in plugin["user_id"]] == [type(v) for v in feast["user_id"]]
    assert plugin["score"].fillna(-1.0).tolist() == [2.0, -1.0, -1.0]
    clean = probe.plugin_store.get_historical_features(
        entity_df=entities.iloc[[0, 2]], features=features
    )
    rows = clean.to_df()
    rows.loc[0, "user_id"] = "changed"
    assert entities["user_id"].tolist()[::2] == ["u1", "u3"]


@pytest.mark.parametrize(
    "odd",
    [
        {"tier": [7.0, 8.0, 9.0]},  # an entity column named like a feature
        {"zone_id": ["1", "2", "1"]},  # a join key typed as text where the source has ints
    ],
)
def test_a_request_feast_refuses_is_refused_the_same_way(probe, odd):
    # The plugin defers, so the error is Feast's own, word for word.
    entities = _probe_entities(**odd)
    errors = []
    for store in (probe.feast_store, probe.plugin_store):
        with pytest.raises(Exception) as caught:
            store.get_historical_features(
                entity_df=entities, features=store.get_feature_service(SERVICE)
            ).to_df()
        errors.append((type(caught.value), str(caught.value)))
    assert errors[0] == errors[1]


def test_saved_dataset_from_the_plugin_equals_feasts(probe, tmp_path):
    from feast.infra.offline_stores.file_source import SavedDatasetFileStorage

    # No on-demand view: Feast's DuckDB store persists before computing them, so saving one
    # fails with either store.
    features = ["user_stats:score", "zone_load:load", "user_profile:tier"]
    saved = {}
    for name, store in (("feast", probe.feast_store), ("asof", probe.plugin_store)):
        job = store.get_historical_features(
            entity_df=_probe_entities(), features=features, filter_by_created_timestamp=True
        )
        path = tmp_path / f"{name}.parquet"
        store.create_saved_dataset(
            from_=job, name=f"probe_{name}", storage=SavedDatasetFileStorage(path=str(path))
        )
        saved[name] = pd.read_parquet(path).sort_values("user_id").reset_index(drop=True)
    # u1 at minute 7: the minute-5 event (written at 6) is the newest usable; u3 has none.
    assert saved["asof"]["score"].fillna(-1.0).tolist() == [2.0, 3.0, -1.0]
    pd.testing.assert_frame_equal(saved["asof"], saved["feast"])


def test_materialize_through_the_plugin_serves_the_latest_rows(probe):
    end = (BASE + pd.Timedelta(minutes=30)).to_pydatetime()
    probe.plugin_store.materialize(start_date=BASE.to_pydatetime(), end_date=end)
    online = probe.plugin_store.get_online_features(
        features=["zone_load:load", "user_profile:tier"],
        entity_rows=[{"zone_id": 1, "user_id": "u1"}, {"zone_id": 2, "user_id": "u2"}],
    ).to_dict()
    # zone 1's latest event (minute 5) carries a NULL load; zone 2's only one carries 6.
    assert online["load"] == [None, 6]
    assert online["tier"] == [2.0, None]


def test_the_embedded_default_is_the_plugin(store, applied_repo):
    """feature_repo/feature_store.yaml names the plugin, and it serves training's request."""
    events = applied_repo.table("prediction_events").head(50)
    spec = describe_service(store, "late_delivery_v1")
    contract = load_contract(applied_repo.repo)
    entities = entity_frame(events, spec, "prediction_time", contract.request_time_field)
    assert type(store._get_provider().offline_store).__name__ == "AsofDuckDBOfflineStore"
    assert len(_rows(store, "late_delivery_v1", entities, cutoff=True)) == 50


def test_both_joins_are_exercised(probe):
    """The identity tests compare two stores because the plugin has two ways to join a view:
    row-to-row for few rows per key under a write-time cutoff, a sorted timeline otherwise."""
    import ibis

    def sql(store, cutoff: bool) -> str:
        entities = _probe_entities()
        job = store.get_historical_features(
            entity_df=entities,
            features=store.get_feature_service(SERVICE),
            filter_by_created_timestamp=cutoff,
        )
        assert list(entities.columns) == list(_probe_entities().columns)  # caller's frame intact
        return str(ibis.to_sql(job.table)).upper()

    assert "ARG_MAX" in sql(probe.plugin_store, cutoff=True)
    assert "ARG_MAX" not in sql(probe.timeline_store, cutoff=True)
    assert "ARG_MAX" not in sql(probe.plugin_store, cutoff=False)  # no cutoff: timelines
    assert "ASOF" in sql(probe.timeline_store, cutoff=True)


@pytest.mark.parametrize(
    "ttl",
    [
        timedelta(days=30),
        timedelta(days=2),
        timedelta(hours=3, microseconds=7),
    ],
)
def test_ttl_in_microseconds_expires_where_feasts_day_interval_does(ttl):
    """In UTC the plugin adds the TTL in microseconds (DuckDB adds day intervals through
    its calendar, slowly); at the TTL, 1 µs before and 1 µs past, it agrees with Feast's
    ``ibis.literal(ttl)``, across a month end and a leap day."""
    import ibis

    from ontime.feast_plugins.asof_query import backend_in_utc, ttl_interval

    events = us([BASE, pd.Timestamp("2028-02-27 23:59:59.999999", tz="UTC")])
    one_us = timedelta(microseconds=1)
    asks = [event + ttl + step for event in events for step in (-one_us, timedelta(0), one_us)]
    frame = pd.DataFrame(
        {
            "event": us([event for event in events for _ in range(3)]),
            "ask": us(asks),
        }
    )
    table = ibis.memtable(frame)
    assert backend_in_utc(ibis.get_backend())
    feast = (table.event + ibis.literal(ttl) >= table.ask).name("fresh")
    plugin = (table.event + ttl_interval(ttl, utc=True) >= table.ask).name("fresh")
    got, want = plugin.to_pyarrow().to_pylist(), feast.to_pyarrow().to_pylist()
    assert got == want == [True, True, False] * 2


def test_a_ttl_feast_cannot_add_is_left_to_feast():
    """ibis cannot type a TTL of days plus seconds, so Feast's join fails on it; the plugin
    defers rather than answer where Feast does not."""
    from feast import Entity, FeatureView, Field, FileSource
    from feast.types import Float64

    from ontime.feast_plugins.asof_plan import Unsupported, plan_views

    view = FeatureView(
        name="odd_ttl",
        entities=[Entity(name="user", join_keys=["user_id"])],
        ttl=timedelta(days=2, seconds=1),
        schema=[Field(name="score", dtype=Float64)],
        source=FileSource(path="/tmp/odd_ttl.parquet", timestamp_field="ts"),
    )
    with pytest.raises(Unsupported, match="TTL"):
        plan_views([view], ["odd_ttl:score"], False, ["user_id", "event_timestamp"])
