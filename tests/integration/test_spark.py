"""The Spark profile gives the same training rows as the DuckDB profile, and feeds Redis.

One Spark session (local, started by Feast from ``feature_repo/profiles/spark.yaml`` with
the environment's ``ONTIME_SPARK_*``) and one real ``redis-server`` serve the module. Each
repo is applied twice, as a user would: ``ontime apply`` (DuckDB, FileSources) and
``ontime apply --profile profiles/spark.yaml`` (Spark, SparkSources, its own registry).
Then the same entity frame goes through both profiles' ``historical_rows``, the function
training and monitoring use, and the rows must be equal row for row and value for value:

- the small default world, probed at late backfills (between a report and its correction),
  at exact report hours (the report itself not yet written) and past every TTL;
- the second domain (tests/fixtures/second_domain) with late corrections written in, probed
  at write times (one microsecond before and at), and at a TTL's last microsecond and the
  one after it.

Finally Spark's compute engine materializes into Redis and each online value equals the
last offline row. The module skips, saying why, only when Java is absent.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ontime.features import entity_frame, historical_rows
from ontime.materialize import materialize
from ontime.repo import apply_repo, describe_service, load_contract, open_store
from serving.online import online_rows
from tests.conftest import ROOT
from tests.integration.conftest import TempRepo
from tests.integration.test_online_offline import assert_online_equals, expected_online
from tests.integration.test_redis import redis_server  # noqa: F401 (a module fixture)
from tests.training.test_second_domain import write_world

pytestmark = [pytest.mark.integration, pytest.mark.spark]

SERVICE = "late_delivery_v1"
ONE_US = pd.Timedelta(microseconds=1)


@pytest.fixture(scope="module")
def spark_env(redis_server) -> Iterator[None]:  # noqa: F811 (the imported fixture)
    """Java, the Redis connection, and a small Spark: two cores, little shuffle, 1 GB heap."""
    if shutil.which("java") is None:
        pytest.skip("Java is not installed; the Spark profile needs a JVM (Java 17)")
    monkey = pytest.MonkeyPatch()
    monkey.setenv("ONTIME_REDIS_CONNECTION_STRING", redis_server.connection_string)
    monkey.setenv("ONTIME_SPARK_MASTER", "local[2]")
    monkey.setenv("ONTIME_SPARK_DRIVER_MEMORY", "1g")
    monkey.setenv("ONTIME_SPARK_SHUFFLE_PARTITIONS", "2")
    try:
        yield
    finally:
        from pyspark import SparkContext

        # Stop the context Feast started (the active session is per thread, so it may not be
        # this thread's) and the gateway JVM with it: the modules that follow get its memory.
        if SparkContext._active_spark_context is not None:
            SparkContext._active_spark_context.stop()
        if SparkContext._gateway is not None:
            SparkContext._gateway.shutdown()
            SparkContext._gateway = SparkContext._jvm = None
        monkey.undo()


@pytest.fixture(scope="module")
def world(spark_env, applied_repo, tmp_path_factory) -> TempRepo:
    """The small default world, applied with the DuckDB profile and the Spark profile."""
    base = tmp_path_factory.mktemp("spark_world")
    shutil.copytree(applied_repo.root, base, dirs_exist_ok=True)
    temp = TempRepo(root=base, repo=base / "feature_repo", config=base / "ontime.yaml")
    for generated in ("registry.db", "online_store.db"):
        (temp.repo / "data" / generated).unlink(missing_ok=True)
    temp.ontime("apply")
    temp.ontime("apply", "--profile", str(spark_profile(temp.repo)))
    return temp


def spark_profile(repo: Path) -> Path:
    return repo / "profiles" / "spark.yaml"


def both_stores(repo: Path):
    return open_store(repo), open_store(repo, spark_profile(repo))


def assert_same_rows(duckdb_rows: pd.DataFrame, spark_rows: pd.DataFrame) -> None:
    """Equal row for row and value for value, in the same dtypes.

    Only the unit of the echoed entity time differs (Spark hands back nanoseconds); the
    instants must still be equal, and every feature column must match exactly.
    """
    assert len(duckdb_rows) == len(spark_rows)
    spark_rows = spark_rows.astype({"event_timestamp": duckdb_rows["event_timestamp"].dtype})
    pd.testing.assert_frame_equal(spark_rows, duckdb_rows, check_exact=True)


def default_world_probes(world: TempRepo) -> pd.DataFrame:
    """Sampled asks plus the edges of a point-in-time join (as in test_point_in_time)."""
    events = world.table("prediction_events").sample(150, random_state=21)
    backlog = world.table("warehouse_backlog")
    exact_hour = events.sample(30, random_state=22).assign(
        prediction_time=lambda f: f["prediction_time"].dt.floor("h")
    )
    expired = events.sample(15, random_state=23).assign(
        prediction_time=backlog["event_timestamp"].max() + pd.Timedelta(hours=5)
    )
    corrected = backlog[backlog.duplicated(["origin_warehouse", "event_timestamp"], keep=False)]
    corrected = corrected.sort_values("created_at").drop_duplicates(
        ["origin_warehouse", "event_timestamp"], keep="last"
    )
    gaps = []
    for _, fix in corrected.head(30).iterrows():
        ask = events[events["origin_warehouse"] == fix["origin_warehouse"]].head(1)
        gaps.append(ask.assign(prediction_time=fix["event_timestamp"] + pd.Timedelta(minutes=30)))
    probes = pd.concat([events, exact_hour, expired, *gaps], ignore_index=True)
    return probes.drop_duplicates(["order_id", "prediction_time"]).reset_index(drop=True)


def test_spark_rows_equal_duckdb_rows_on_the_default_world(world):
    duckdb_store, spark_store = both_stores(world.repo)
    assert spark_store.config.offline_store.type == "spark"
    spec = describe_service(duckdb_store, SERVICE)
    contract = load_contract(world.repo)
    probes = default_world_probes(world)
    frame = entity_frame(probes, spec, "prediction_time", contract.request_time_field)

    duckdb_rows = historical_rows(duckdb_store, spec, frame)
    spark_rows = historical_rows(spark_store, spec, frame)
    assert_same_rows(duckdb_rows, spark_rows)

    # The edges must be in the frame, or equality proves nothing about them.
    assert spark_rows["origin_backlog"].isna().sum() >= 15, "TTL expiry not exercised"
    backlog = world.table("warehouse_backlog")
    in_gap = 0
    for i, row in frame.iterrows():
        reports = backlog[
            (backlog["origin_warehouse"] == row["origin_warehouse"])
            & (backlog["event_timestamp"] == row["event_timestamp"] - pd.Timedelta(minutes=30))
        ].sort_values("created_at")
        if len(reports) >= 2 and reports["created_at"].iloc[-1] > row["event_timestamp"]:
            # Spark, like DuckDB, uses the report as first written, not its later correction.
            assert spark_rows.loc[i, "origin_backlog"] == reports["origin_backlog"].iloc[0]
            in_gap += 1
    assert in_gap >= 5, f"only {in_gap} probes fell between a report and its correction"


@pytest.fixture(scope="module")
def helpdesk(spark_env, tmp_path_factory) -> Path:
    """The second domain with late corrections, applied with both profiles."""
    repo = tmp_path_factory.mktemp("helpdesk") / "repo"
    shutil.copytree(
        ROOT / "tests/fixtures/second_domain",
        repo,
        ignore=shutil.ignore_patterns("__pycache__", "data"),
    )
    write_world(repo / "data")
    activity = pd.read_parquet(repo / "data" / "customer_activity.parquet")
    # A late correction for some days: the CRM re-exports a day 36 hours later.
    fixes = activity.sample(frac=0.05, random_state=4).copy()
    # Microseconds, as every source table: Spark cannot read nanosecond parquet timestamps.
    fixes["created_at"] = (fixes["event_timestamp"] + pd.Timedelta(hours=36)).astype(
        "datetime64[us, UTC]"
    )
    fixes["open_tickets"] = fixes["open_tickets"] + 1.0
    pd.concat([activity, fixes], ignore_index=True).to_parquet(
        repo / "data" / "customer_activity.parquet", index=False
    )
    apply_repo(repo)
    apply_repo(repo, spark_profile(repo))
    return repo


def helpdesk_probes(repo: Path) -> tuple[pd.DataFrame, int]:
    """Ticket asks plus write-time, correction-gap and TTL edges; also the corrected count."""
    tickets = pd.read_parquet(repo / "data" / "tickets.parquet").sample(150, random_state=5)
    activity = pd.read_parquet(repo / "data" / "customer_activity.parquet")
    first = activity.sort_values("created_at").drop_duplicates(
        ["customer_id", "event_timestamp"], keep="first"
    )
    day = first.sample(20, random_state=6)
    edges = [
        day.assign(opened_at=day["created_at"] - ONE_US),  # written a microsecond later
        day.assign(opened_at=day["created_at"]),  # written at the prediction time
    ]
    fixed = activity[activity.duplicated(["customer_id", "event_timestamp"], keep=False)]
    gap = fixed.drop_duplicates(["customer_id", "event_timestamp"]).head(20)
    edges.append(gap.assign(opened_at=gap["event_timestamp"] + pd.Timedelta(hours=12)))
    last = first[first["event_timestamp"] == first["event_timestamp"].max()].head(10)
    ttl = timedelta(days=2)
    edges.append(last.assign(opened_at=last["event_timestamp"] + ttl))  # last microsecond
    edges.append(last.assign(opened_at=last["event_timestamp"] + ttl + ONE_US))  # expired
    asks = [tickets[["customer_id", "opened_at"]]]
    asks += [e[["customer_id", "opened_at"]] for e in edges]
    probes = pd.concat(asks, ignore_index=True).drop_duplicates().reset_index(drop=True)
    return probes, len(gap)


def test_spark_rows_equal_duckdb_rows_on_the_second_domain(helpdesk):
    duckdb_store, spark_store = both_stores(helpdesk)
    spec = describe_service(duckdb_store, "escalation_v1")
    contract = load_contract(helpdesk)
    probes, corrected = helpdesk_probes(helpdesk)
    frame = entity_frame(probes, spec, "opened_at", contract.request_time_field)

    duckdb_rows = historical_rows(duckdb_store, spec, frame)
    spark_rows = historical_rows(spark_store, spec, frame)
    assert_same_rows(duckdb_rows, spark_rows)
    assert corrected >= 10, "the world should hold late corrections"
    assert spark_rows["plan"].isna().sum() >= 10, "TTL expiry and unwritten rows not exercised"


def test_spark_materializes_into_redis_the_last_offline_rows(world, redis_server):  # noqa: F811
    profile = spark_profile(world.repo)
    end = world.table("prediction_events")["prediction_time"].max()
    redis_server.client().flushall()
    materialize(world.repo, end=end.to_pydatetime(), profile=profile)
    assert redis_server.client().dbsize() > 0, "the Spark engine wrote nothing to Redis"

    store = open_store(world.repo, profile)
    assert store.config.batch_engine.type == "spark.engine"
    spec = describe_service(store, SERVICE)
    sample = world.table("prediction_events").sample(150, random_state=8)
    sample = sample.reset_index(drop=True).assign(request_time_epoch_s=end.timestamp())
    online = online_rows(store, spec, sample)
    expected = expected_online(world, store, sample, end)

    assert_online_equals(online, expected, "spark -> redis")
    assert expected["distance_km"].notna().all(), "every sampled order should be online"
    assert np.isfinite(expected["origin_backlog"]).all(), "backlog should be fresh at the end"
