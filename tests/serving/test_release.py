"""Shadow, canary and hot alias switches: every answer names a real version that made it."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
import numpy as np
import pytest

from serving.log_reader import read_predictions
from serving.models import StaticModelSource
from serving.release import canary_mask
from tests.serving.conftest import event_rows, settings_for, start_live

pytestmark = pytest.mark.integration


def test_canary_mask_is_stable_and_near_its_share():
    orders = [f"O-{i:07d}" for i in range(4000)]
    keys = [orders, ["WH-01"] * len(orders)]
    first = canary_mask(keys, 0.2)
    assert np.array_equal(first, canary_mask(keys, 0.2))
    assert 0.17 < first.mean() < 0.23
    assert not canary_mask(keys, 0.0).any()
    # Growing the share only adds rows: nobody flips back to the champion.
    assert (canary_mask(keys, 0.5) | ~first).all()


def test_alias_flip_while_requests_flow(live_world, bundles, tmp_path):
    source = StaticModelSource({"champion": bundles.v1})
    live = start_live(settings_for(live_world, tmp_path / "logs", release_mode="off"), source)
    rows = event_rows(live_world, 20, seed=2)
    seen: list[tuple[float, int, str | None]] = []
    stop = threading.Event()

    def client_loop(offset: int) -> None:
        with httpx.Client(base_url=live.url, timeout=30) as client:
            i = offset
            while not stop.is_set():
                response = client.post("/v1/predict", json=rows[i % len(rows)])
                body = response.json()
                version = body.get("model", {}).get("version")
                seen.append((time.monotonic(), response.status_code, version))
                i += 1

    threads = [threading.Thread(target=client_loop, args=(k,)) for k in range(3)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(1.5)
        flipped_at = time.monotonic()
        source.set("champion", bundles.v2)  # what `ontime promote` does to the alias
        deadline = flipped_at + 15
        while time.monotonic() < deadline and not any(
            v == "2" and t > flipped_at for t, _, v in list(seen)
        ):
            time.sleep(0.1)
        time.sleep(1.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        live.server.stop()
    assert {status for _, status, _ in seen} == {200}
    assert {v for _, _, v in seen} == {"1", "2"}
    switched = min(t for t, _, v in seen if v == "2")
    assert switched - flipped_at < 5.0, "alias change not picked up within a few seconds"
    # Once the new version answers, the old one never answers again.
    assert all(v == "2" for t, _, v in seen if t > switched + 0.5)


def test_shadow_is_logged_not_returned(live, live_world):
    rows = event_rows(live_world, 6, seed=4)
    response = httpx.post(live.url + "/v1/predict/batch", json={"rows": rows}, timeout=30)
    results = response.json()["results"]
    assert {r["prediction"]["model"]["version"] for r in results} == {"1"}
    assert {r["prediction"]["model"]["role"] for r in results} == {"champion"}
    live.service.logger.flush()
    logged = read_predictions(
        live.settings.serving.log_dir,
        datetime.now(UTC) - timedelta(minutes=5),
        datetime.now(UTC) + timedelta(minutes=1),
    )
    ids = {r["prediction"]["request_id"] for r in results}
    mine = logged[logged["request_id"].isin(ids)]
    assert sorted(mine["role"].value_counts().items()) == [("champion", 6), ("shadow", 6)]
    shadow = mine[mine["role"] == "shadow"]
    assert set(shadow["model_version"]) == {"2"}
    assert set(shadow["request_id"]) == ids  # shadow rows share the request id they shadow


def test_canary_share_answers_by_entity(live_world, bundles, tmp_path):
    source = StaticModelSource({"champion": bundles.v1, "challenger": bundles.v2})
    settings = settings_for(live_world, tmp_path / "logs", release_mode="canary", canary_share=0.5)
    live = start_live(settings, source)
    try:
        rows = event_rows(live_world, 40, seed=6)
        first = httpx.post(live.url + "/v1/predict/batch", json={"rows": rows}, timeout=30)
        again = httpx.post(live.url + "/v1/predict/batch", json={"rows": rows}, timeout=30)
    finally:
        live.server.stop()
    roles = [(r["prediction"]["model"]["role"], r["prediction"]["model"]["version"])
             for r in first.json()["results"]]  # fmt: skip
    assert set(roles) == {("champion", "1"), ("canary", "2")}
    keys = [[r[k] for r in rows] for k in ("order_id", "origin_warehouse", "carrier_id")]
    expected = canary_mask(keys, 0.5)
    assert [role == "canary" for role, _ in roles] == expected.tolist()
    assert roles == [(r["prediction"]["model"]["role"], r["prediction"]["model"]["version"])
                     for r in again.json()["results"]]  # fmt: skip
