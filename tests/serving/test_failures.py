"""Fail closed, never 500 for bad input: each failure gets its status and names the problem."""

from __future__ import annotations

import os
import sqlite3
import time

import httpx
import pandas as pd
import pytest

from serving.models import StaticModelSource
from serving.push import push_targets
from serving.store import open_serving_store
from tests.serving.conftest import copy_world, end_of_world, event_rows, settings_for, start_live

pytestmark = pytest.mark.integration


def post(live, path: str, body, **kwargs) -> httpx.Response:
    return httpx.post(live.url + path, json=body, timeout=30, **kwargs)


def test_malformed_bodies_are_422_naming_the_field(live, live_world):
    row = event_rows(live_world, 1)[0]
    wrong_type = {**row, "order_id": 17}
    missing = {k: v for k, v in row.items() if k != "carrier_id"}
    extra = {**row, "carrier": "northpost"}
    bad_time = {**row, "prediction_time": "yesterday-ish"}
    for body, field in [
        (wrong_type, "order_id"),
        (missing, "carrier_id"),
        (extra, "carrier"),
        (bad_time, "prediction_time"),
    ]:
        response = post(live, "/v1/predict", body)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["kind"] == "validation"
        assert field in response.json()["error"]["detail"]
    broken = httpx.post(
        live.url + "/v1/predict",
        content=b'{"order_id": ',
        headers={"content-type": "application/json"},
    )
    assert broken.status_code == 422
    empty_batch = post(live, "/v1/predict/batch", {"rows": []})
    assert empty_batch.status_code == 422 and "rows" in empty_batch.json()["error"]["detail"]


def test_unknown_entity_is_404_naming_the_key(live, live_world):
    row = {**event_rows(live_world, 1)[0], "order_id": "O-DOES-NOT-EXIST"}
    response = post(live, "/v1/predict", row)
    assert response.status_code == 404, response.text
    assert "order_id='O-DOES-NOT-EXIST'" in response.json()["error"]["detail"]


def test_missing_required_feature_is_422_naming_it(live, live_world):
    """An order pushed without its distance: found online, but the contract rejects it."""
    store = open_serving_store(live_world.repo)
    shipments = live_world.table("shipments")
    order = shipments.iloc[[-1]].copy()
    order["order_id"] = "O-NO-DISTANCE"
    order["distance_km"] = None
    order["created_at"] = end_of_world(live_world) - pd.Timedelta(hours=1)
    target = next(t for t in push_targets(store) if t.path.name == "shipments.parquet")
    store.push(target.name, order)
    row = {**event_rows(live_world, 1)[0], "order_id": "O-NO-DISTANCE"}
    response = post(live, "/v1/predict", row)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["kind"], error["detail"]) == (
        "contract",
        "required feature distance_km is missing",
    )
    assert error["request_id"] == response.headers["x-request-id"]


def test_batch_reports_each_row_and_oversized_batch_is_413(live_world, bundles, tmp_path):
    source = StaticModelSource({"champion": bundles.v1})
    live = start_live(settings_for(live_world, tmp_path / "logs", max_batch_rows=5), source)
    try:
        rows = event_rows(live_world, 4)
        rows.append({**rows[0], "order_id": "O-NOPE"})
        response = post(live, "/v1/predict/batch", {"rows": rows})
        assert response.status_code == 200, response.text
        statuses = [item["status"] for item in response.json()["results"]]
        assert statuses == [200, 200, 200, 200, 404]
        assert all(
            i["prediction"]["model"]["version"] == "1" for i in response.json()["results"][:4]
        )
        too_many = post(live, "/v1/predict/batch", {"rows": rows + rows[:1]})
        assert too_many.status_code == 413
        assert "limit of 5" in too_many.json()["error"]["detail"]
    finally:
        live.server.stop()


def test_no_champion_is_503_and_not_ready(live_world, tmp_path):
    live = start_live(settings_for(live_world, tmp_path / "logs"), StaticModelSource())
    try:
        response = post(live, "/v1/predict", event_rows(live_world, 1)[0])
        assert response.status_code == 503
        assert "no champion" in response.json()["error"]["detail"]
        assert httpx.get(live.url + "/readyz").status_code == 503
        assert httpx.get(live.url + "/healthz").status_code == 200
    finally:
        live.server.stop()


def wait_for(check, timeout_s: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def test_locked_store_is_503_then_recovers(live_world, bundles, tmp_path):
    temp = copy_world(live_world, tmp_path / "locked")
    source = StaticModelSource({"champion": bundles.v1})
    live = start_live(settings_for(temp, tmp_path / "logs", store_retry_seconds=0.5), source)
    row = event_rows(temp, 1)[0]
    try:
        assert post(live, "/v1/predict", row).status_code == 200
        lock = sqlite3.connect(temp.repo / "data" / "online_store.db", isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")
        try:
            down = post(live, "/v1/predict", row)
            assert down.status_code == 503, down.text
            assert down.json()["error"]["kind"] == "store_unavailable"
            assert "locked" in down.json()["error"]["detail"]
            assert httpx.get(live.url + "/readyz").status_code == 503
            metrics = httpx.get(live.url + "/metrics").text
            assert 'ontime_errors_total{kind="store_unavailable"}' in metrics
            assert "ontime_online_store_up 0.0" in metrics
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        assert wait_for(lambda: post(live, "/v1/predict", row).status_code == 200)
        assert httpx.get(live.url + "/readyz").status_code == 200
    finally:
        live.server.stop()


def test_removed_store_file_is_503_then_recovers(live_world, bundles, tmp_path):
    temp = copy_world(live_world, tmp_path / "removed")
    database = temp.repo / "data" / "online_store.db"
    away = database.with_suffix(".away")
    os.replace(database, away)
    source = StaticModelSource({"champion": bundles.v1})
    live = start_live(settings_for(temp, tmp_path / "logs", store_retry_seconds=0.5), source)
    row = event_rows(temp, 1)[0]
    try:
        down = post(live, "/v1/predict", row)
        assert down.status_code == 503, down.text
        assert down.json()["error"]["kind"] == "store_unavailable"
        ready = httpx.get(live.url + "/readyz")
        assert ready.status_code == 503 and "online store unavailable" in ready.text
        time.sleep(1.0)  # a few recovery probes: none may create an empty store in its place
        assert not database.exists()
        os.replace(away, database)
        assert wait_for(lambda: post(live, "/v1/predict", row).status_code == 200)
    finally:
        live.server.stop()
