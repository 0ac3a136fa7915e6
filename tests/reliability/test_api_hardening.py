"""The HTTP edge under hostile or careless input: sizes, media types, keys, tokens, stores.

Real servers throughout (uvicorn in a thread, or `ontime serve` as a process), spoken to
over real sockets where the point is what happens on the wire (unread bodies, keep-alive).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import socket
import time

import httpx
import pandas as pd
import pytest

from ontime.errors import ConfigError
from ontime.repo import open_store
from ontime.settings import load_settings
from serving.models import ServedModel, StaticModelSource
from tests.serving.conftest import copy_world, event_rows, settings_for, start_live

pytestmark = pytest.mark.integration


def exchange(sock: socket.socket, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send one HTTP/1.1 request on an open socket; read one response (Content-Length)."""
    sock.sendall(request)
    return read_response(sock)


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"connection closed after {data[:200]!r}")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed mid-body")
        body += chunk
    return int(lines[0].split()[1]), headers, body


def post_bytes(path: str, body: bytes, content_type: str | None = "application/json") -> bytes:
    head = f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Length: {len(body)}\r\n"
    if content_type is not None:
        head += f"Content-Type: {content_type}\r\n"
    return (head + "\r\n").encode() + body


def encode(body) -> bytes:
    return json.dumps(body).encode()


def connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    return sock


@pytest.fixture
def small_limits(live_world, bundles, tmp_path):
    settings = settings_for(live_world, tmp_path / "logs", max_body_bytes=64_000,
                            max_key_length=100, release_mode="off")  # fmt: skip
    live = start_live(settings, StaticModelSource({"champion": bundles.v1}))
    yield live
    live.server.stop()


def test_a_declared_oversized_body_is_413_before_it_is_sent(small_limits):
    with connect(small_limits.url) as sock:
        sock.sendall(
            b"POST /v1/predict/batch HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b'Content-Length: 62000000\r\n\r\n{"rows": ['
        )  # 62 MB announced, 10 bytes sent: the answer cannot have waited for the body
        status, headers, body = read_response(sock)
    assert status == 413
    assert "serving.max_body_bytes" in body.decode()
    assert headers["connection"] == "close"


def test_a_streamed_body_is_cut_off_at_the_limit(small_limits):
    chunk = b"[" * 8000
    with connect(small_limits.url) as sock:
        sock.sendall(
            b"POST /v1/predict/batch HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        for _ in range(10):  # 80 kB of a body with no declared length
            sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        status, _, body = read_response(sock)
    assert status == 413, body


def test_bodies_must_be_declared_json(small_limits, live_world):
    row = encode(event_rows(live_world, 1)[0])
    with connect(small_limits.url) as sock:
        for media in ("text/plain", None, "application/x-www-form-urlencoded"):
            status, _, body = exchange(sock, post_bytes("/v1/predict", row, media))
            assert status == 415, body
        status, _, body = exchange(
            sock, post_bytes("/v1/predict", row, "application/json; charset=utf-8")
        )
        assert status == 200, body  # and the connection survived the refusals


def test_over_long_keys_are_422_and_unknown_keys_are_echoed_short(small_limits, live_world):
    row = event_rows(live_world, 1)[0]
    long = httpx.post(small_limits.url + "/v1/predict", json={**row, "order_id": "X" * 5000})
    assert long.status_code == 422
    detail = long.json()["error"]["detail"]
    assert detail.startswith("body.order_id: String should have at most 100 characters")
    assert "XXXX" not in detail
    unknown = httpx.post(small_limits.url + "/v1/predict", json={**row, "order_id": "Y" * 100})
    assert unknown.status_code == 404
    assert len(unknown.json()["error"]["detail"]) < 150
    assert "(100 chars)" in unknown.json()["error"]["detail"]


def test_errors_carry_a_request_id_and_never_break_the_connection(small_limits, live_world):
    row = event_rows(live_world, 1)[0]
    good = post_bytes("/v1/predict", encode(row))
    bad = [
        post_bytes("/v1/predict", b'{"order_id": '),
        post_bytes("/v1/predict", encode({**row, "prediction_time": "0001-01-01T00:00:00+14:00"})),
        post_bytes("/v1/predict/batch", b'{"rows": null}'),
        post_bytes("/v1/predict", b"[" * 100_000 + b"]" * 100_000),  # deep nesting, too big
        post_bytes("/v1/predict", b'{"order_id": "\xff\xfe"}'),  # not UTF-8
        post_bytes("/v1/predict", b'{"order_id": NaN}'),
        b"GET /v1/nowhere HTTP/1.1\r\nHost: t\r\n\r\n",
    ]
    with connect(small_limits.url) as sock:
        for request in bad:
            status, headers, body = exchange(sock, request)
            assert 400 <= status < 500, (status, body)
            if request.startswith(b"POST"):
                error = httpx.Response(status, content=body).json()["error"]
                assert error["request_id"] == headers["x-request-id"]
                assert "/" not in error["detail"].replace("application/json", "")
            if headers.get("connection") == "close":
                sock.close()
                sock = connect(small_limits.url)
            status, _, body = exchange(sock, good)
            assert status == 200, body


def test_an_unexpected_failure_is_503_with_a_request_id_and_logged_under_it(
    live_world, bundles, tmp_path, caplog
):
    """The champion alias moves to a model trained on a FeatureService the registry lacks."""
    source = StaticModelSource({"champion": bundles.v1})
    live = start_live(settings_for(live_world, tmp_path / "logs"), source)
    orphan = dataclasses.replace(bundles.v1.bundle, feature_service="renamed_service_v9")
    source.set("champion", ServedModel("late_delivery", "7", "champion", orphan))
    try:
        deadline = time.monotonic() + 20
        while live.service.release.lineup.versions.get("champion") != "7":
            assert time.monotonic() < deadline, "alias move not picked up"
            time.sleep(0.1)
        with caplog.at_level(logging.ERROR), httpx.Client(base_url=live.url) as client:
            answer = client.post("/v1/predict", json=event_rows(live_world, 1)[0])
            assert answer.status_code == 503
            error = answer.json()["error"]
            assert error["kind"] == "internal"
            assert error["request_id"] == answer.headers["x-request-id"]
            assert "renamed_service_v9" not in answer.text
            assert client.get("/healthz").status_code == 200  # same connection, still fine
        logged = [r for r in caplog.records if error["request_id"] in r.getMessage()]
        assert logged and "renamed_service_v9" in (logged[0].exc_text or "")
    finally:
        live.server.stop()


def test_a_replaced_store_file_is_reopened(live_world, bundles, tmp_path):
    temp = copy_world(live_world, tmp_path / "served")
    other = copy_world(live_world, tmp_path / "other")
    row = event_rows(temp, 1, seed=17)[0]
    store = open_store(other.repo)
    profile = store.get_feature_view("shipment_profile")
    shipments = other.table("shipments")
    changed = shipments[shipments["order_id"] == row["order_id"]].copy()
    changed["distance_km"] = 4321.0
    store.write_to_online_store(profile.name, changed)
    live = start_live(settings_for(temp, tmp_path / "logs", release_mode="off"),
                      StaticModelSource({"champion": bundles.v1}))  # fmt: skip
    database = temp.repo / "data" / "online_store.db"
    try:
        before = httpx.post(live.url + "/v1/predict", json=row, timeout=30).json()
        assert before["features"]["distance_km"]["value"] != 4321.0
        staged = database.with_name("incoming.db")
        shutil.copy(other.repo / "data" / "online_store.db", staged)
        os.replace(staged, database)  # an atomic swap, as a deploy would do it
        after = httpx.post(live.url + "/v1/predict", json=row, timeout=30)
        assert after.status_code == 200, after.text
        assert after.json()["features"]["distance_km"]["value"] == 4321.0
    finally:
        live.server.stop()


def test_a_missing_store_file_is_503_and_never_created(live_world, bundles, tmp_path):
    temp = copy_world(live_world, tmp_path / "served")
    database = temp.repo / "data" / "online_store.db"
    settings = settings_for(temp, tmp_path / "logs", store_retry_seconds=0.2)
    live = start_live(settings, StaticModelSource({"champion": bundles.v1}))
    row = event_rows(temp, 1)[0]
    try:
        assert httpx.post(live.url + "/v1/predict", json=row, timeout=30).status_code == 200
        away = database.with_suffix(".away")
        os.replace(database, away)  # renamed away while serving
        down = httpx.post(live.url + "/v1/predict", json=row, timeout=30)
        assert down.status_code == 503
        assert down.json()["error"]["detail"] == (
            "online store unavailable: its database file is missing"
        )
        time.sleep(1.0)  # several recovery probes
        assert not database.exists()
        ready = httpx.get(live.url + "/readyz")
        assert ready.status_code == 503
        assert str(temp.root) not in ready.text and "Error" not in ready.text
        os.replace(away, database)
        deadline = time.monotonic() + 20
        while httpx.post(live.url + "/v1/predict", json=row, timeout=30).status_code != 200:
            assert time.monotonic() < deadline, "store did not come back"
            time.sleep(0.2)
    finally:
        live.server.stop()


def test_duplicate_settings_keys_are_a_config_error(tmp_path):
    path = tmp_path / "ontime.yaml"
    path.write_text("serving:\n  port: 8081\n  log_sample_rate: 0.5\n  port: 9090\n")
    with pytest.raises(ConfigError, match=r"duplicate key 'port' \(line 4\)"):
        load_settings(path)
    path.write_text("serving:\n  port: 8081\nlabels:\n  column: x\nserving:\n  port: 2\n")
    with pytest.raises(ConfigError, match="duplicate key 'serving'"):
        load_settings(path)


def test_a_bearer_token_guards_the_api_when_set(live_world, bundles, tmp_path, monkeypatch):
    monkeypatch.setenv("ONTIME_TEST_TOKEN", "s3cret-token")
    settings = settings_for(live_world, tmp_path / "logs", api_token_env="ONTIME_TEST_TOKEN")
    live = start_live(settings, StaticModelSource({"champion": bundles.v1}))
    row = event_rows(live_world, 1)[0]
    try:
        bare = httpx.post(live.url + "/v1/predict", json=row)
        wrong = httpx.post(live.url + "/v1/predict", json=row,
                           headers={"Authorization": "Bearer s3cret-tokeN"})  # fmt: skip
        right = httpx.post(live.url + "/v1/predict", json=row,
                           headers={"Authorization": "Bearer s3cret-token"})  # fmt: skip
        assert (bare.status_code, wrong.status_code, right.status_code) == (401, 401, 200)
        assert bare.headers["www-authenticate"] == "Bearer"
        assert httpx.get(live.url + "/readyz").status_code == 200  # probes need no token
    finally:
        live.server.stop()


def test_binding_beyond_loopback_must_be_allowed_and_needs_a_token(
    served, serve_process, live_world
):
    def serve(name: str, env=None, **serving):
        config = served.config(name, host="0.0.0.0", log_dir=str(served.temp.root / name),
                               release_mode="off", **serving)  # fmt: skip
        return serve_process(config, served.bundle, env=env)

    refused = serve("closed")
    with pytest.raises(AssertionError, match=r"serving\.allow_remote: true"):
        refused.start()
    no_token = serve("open", allow_remote=True)
    with pytest.raises(AssertionError, match="ONTIME_API_TOKEN"):
        no_token.start()
    server = serve("remote", env={"ONTIME_API_TOKEN": "t0ken"}, allow_remote=True).start()
    row = event_rows(live_world, 1)[0]
    assert httpx.post(server.url + "/v1/predict", json=row).status_code == 401
    authorised = httpx.post(server.url + "/v1/predict", json=row,
                            headers={"Authorization": "Bearer t0ken"}, timeout=30)  # fmt: skip
    assert authorised.status_code == 200, authorised.text
    assert server.stop() in (0, 130)
    assert "reachable from other machines" in server.stderr()
    assert "Traceback" not in refused.stderr() + no_token.stderr()


def test_readyz_names_problems_without_internals(live_world, tmp_path):
    live = start_live(settings_for(live_world, tmp_path / "logs"), StaticModelSource())
    try:
        ready = httpx.get(live.url + "/readyz")
        assert ready.status_code == 503
        assert ready.json()["reasons"] == ["no champion model loaded"]
        assert set(ready.json()["log"]) >= {"backlog_rows", "oldest_unwritten_s", "dead_lettered"}
    finally:
        live.server.stop()


def test_served_frame_values_are_plain(live_world):
    """Guard for the test data itself: the world has the columns these tests rely on."""
    shipments = live_world.table("shipments")
    assert {"order_id", "distance_km", "created_at"} <= set(shipments.columns)
    assert pd.api.types.is_float_dtype(shipments["distance_km"])
