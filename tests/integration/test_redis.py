"""The scale-out profile: the same definitions with a real Redis online store.

A real ``redis-server`` runs on a free localhost port in a temp dir (no persistence). The
applied small world is copied without its registry and SQLite store, applied and
materialized through ``ontime --profile feature_repo/profiles/redis.yaml`` in subprocesses,
and then read back two ways: the online values equal the last offline rows, and the
serving scorer built from ``serving.feature_store_yaml`` answers from Redis.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ontime.repo import describe_service, open_store
from serving.online import online_rows
from tests.integration.conftest import TempRepo
from tests.integration.test_online_offline import assert_online_equals, expected_online

pytestmark = pytest.mark.integration

SERVICE = "late_delivery_v1"
ENV = "ONTIME_REDIS_CONNECTION_STRING"


@dataclass
class RedisServer:
    port: int
    process: subprocess.Popen

    @property
    def connection_string(self) -> str:
        return f"127.0.0.1:{self.port}"

    def client(self):
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory) -> Iterator[RedisServer]:
    """A real redis-server for this module, stopped at teardown."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (CI installs it: apt-get install redis-server)")
    folder = tmp_path_factory.mktemp("redis")
    port = free_port()
    # No persistence: the server lives only as long as this module's tests.
    options = ["--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder)]
    options += ["--save", "", "--appendonly", "no"]
    with (folder / "redis.log").open("w") as log_file:
        process = subprocess.Popen([binary, *options], stdout=log_file, stderr=subprocess.STDOUT)
    server = RedisServer(port=port, process=process)
    try:
        wait_for_ping(server, folder / "redis.log")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for_ping(server: RedisServer, log_file: Path, attempts: int = 100) -> None:
    """Poll PING until the server answers (a start-up wait, not a timing assertion)."""
    import redis

    client = server.client()
    for _ in range(attempts):
        if server.process.poll() is not None:
            raise RuntimeError(f"redis-server exited:\n{log_file.read_text()[-2000:]}")
        try:
            if client.ping():
                return
        except redis.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError(f"redis-server did not answer PING:\n{log_file.read_text()[-2000:]}")


@pytest.fixture(scope="module")
def redis_world(redis_server, applied_repo, tmp_path_factory) -> Iterator[TempRepo]:
    """The small world applied and materialized into Redis only (no SQLite store exists)."""
    base = tmp_path_factory.mktemp("redis_world")
    shutil.copytree(applied_repo.root, base, dirs_exist_ok=True)
    temp = TempRepo(root=base, repo=base / "feature_repo", config=base / "ontime.yaml")
    for generated in ("registry.db", "online_store.db"):
        (temp.repo / "data" / generated).unlink(missing_ok=True)
    profile = temp.repo / "profiles" / "redis.yaml"
    monkey = pytest.MonkeyPatch()
    monkey.setenv(ENV, redis_server.connection_string)  # the subprocesses inherit it
    try:
        temp.ontime("apply", "--profile", str(profile))
        end = temp.table("prediction_events")["prediction_time"].max()
        temp.ontime("materialize", "--end", end.isoformat(), "--profile", str(profile))
        yield temp
    finally:
        monkey.undo()


def profile_of(temp: TempRepo) -> Path:
    return temp.repo / "profiles" / "redis.yaml"


def end_of(temp: TempRepo) -> pd.Timestamp:
    return temp.table("prediction_events")["prediction_time"].max()


def test_profile_without_its_environment_variable_is_a_clear_error(applied_repo, monkeypatch):
    from ontime.errors import ConfigError

    monkeypatch.delenv(ENV, raising=False)
    with pytest.raises(ConfigError, match=ENV):
        open_store(applied_repo.repo, profile_of(applied_repo))
    profile = str(profile_of(applied_repo))
    result = applied_repo.ontime("materialize", "--profile", profile, check=False)
    assert result.returncode == 1
    assert result.stderr.strip().startswith("error:") and ENV in result.stderr
    assert "Traceback" not in result.stderr


def test_redis_online_values_equal_last_offline_rows(redis_world, redis_server, monkeypatch):
    monkeypatch.setenv(ENV, redis_server.connection_string)
    store = open_store(redis_world.repo, profile_of(redis_world))
    assert store.config.online_store.type == "redis"
    assert not (redis_world.repo / "data" / "online_store.db").exists(), "SQLite was written"
    assert redis_server.client().dbsize() > 0, "materialize wrote nothing to Redis"

    end = end_of(redis_world)
    spec = describe_service(store, SERVICE)
    sample = redis_world.table("prediction_events").sample(200, random_state=8)
    sample = sample.reset_index(drop=True).assign(request_time_epoch_s=end.timestamp())
    online = online_rows(store, spec, sample)
    expected = expected_online(redis_world, store, sample, end)

    assert_online_equals(online, expected, "redis")
    assert expected["distance_km"].notna().all(), "every sampled order should be online"
    assert expected["origin_backlog"].notna().all(), "backlog should be fresh at the end"


def test_unknown_entity_is_not_found_on_redis(redis_world, redis_server, monkeypatch):
    """Feast 0.67 Redis returns absent keys as present at event time 0; serving normalises."""
    from serving.lookup import ServiceLookup

    monkeypatch.setenv(ENV, redis_server.connection_string)
    store = open_store(redis_world.repo, profile_of(redis_world))
    lookup = ServiceLookup(store, SERVICE)
    entities = {key: ["no-such-key"] for key in lookup.spec.entity_keys}
    entities.update(
        {field: [end_of(redis_world).timestamp()] for field in lookup.spec.request_fields}
    )
    found = lookup.fetch(store, entities).found
    assert not any(bool(flags[0]) for flags in found.values()), found


def test_serving_scores_from_redis_through_its_settings(
    redis_world, redis_server, monkeypatch, tmp_path
):
    """``serving.feature_store_yaml`` reaches the scorer; emptying Redis empties its answers."""
    from ontime.settings import load_settings
    from ontime.settings.serving import ServingSettings
    from serving.models import ServedModel, StaticModelSource
    from serving.service import build_service
    from tests.serving.conftest import same_value, train_bundle

    monkeypatch.setenv(ENV, redis_server.connection_string)
    store = open_store(redis_world.repo, profile_of(redis_world))
    events = redis_world.table("prediction_events")
    labels = redis_world.table("deliveries").set_index("order_id")["delivered_after_promise"]
    train = events.sample(400, random_state=3).reset_index(drop=True)
    bundle = train_bundle(store, train, labels, seed=1, depth=2)
    champion = ServedModel("late_delivery", "1", "champion", bundle, run_id="run-1")

    serving = ServingSettings(
        feature_store_yaml=profile_of(redis_world),
        log_dir=tmp_path / "logs",
        release_mode="off",
        feast_logging=False,
    )
    settings = load_settings(redis_world.config).model_copy(update={"serving": serving})
    service = build_service(settings, source=StaticModelSource({"champion": champion}))
    service.start()
    try:
        ready, reasons = service.ready
        assert ready, reasons
        opened, _ = service.stores.lookup(SERVICE)
        assert opened.config.online_store.type == "redis"

        end = end_of(redis_world)
        recent = events[events["prediction_time"] > end - pd.Timedelta(hours=6)]
        sample = recent.drop_duplicates("order_id").sample(30, random_state=5)
        sample = sample.reset_index(drop=True)
        keys = {k: sample[k].tolist() for k in describe_service(store, SERVICE).entity_keys}
        epoch = np.full(len(sample), end.timestamp())
        outcomes = service.scorer.score(keys, epoch)
        direct = online_rows(
            store,
            describe_service(store, SERVICE),
            sample.assign(request_time_epoch_s=end.timestamp()),
        )
        predictions = [(i, o.prediction) for i, o in enumerate(outcomes) if o.prediction]
        assert len(predictions) >= 20, [o.error.detail for o in outcomes if o.error]
        for i, prediction in predictions:
            assert 0.0 <= prediction.probability <= 1.0
            for feature, report in prediction.features.items():
                assert same_value(report.value, direct[feature].iloc[i]), (feature, report)

        # Only Redis holds these values: once it is emptied, no row can be scored. (This
        # test runs last in the module because of that.)
        redis_server.client().flushall()
        emptied = service.scorer.score(keys, epoch)
        assert all(o.prediction is None and o.error is not None for o in emptied)
    finally:
        service.stop()
