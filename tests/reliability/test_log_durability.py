"""The prediction log under crashes: every acknowledged prediction is logged exactly once.

`ontime serve` runs as a real process while clients stream single rows and batches; at a
random moment the server, or its log writer, or both, get SIGKILL; the server restarts and
the stream goes on. At the end every request id that was answered 200 must be in the
prediction log once, and no id may be there twice. 20 kills here; the benchmark does the
same with a heavier share of server kills.
"""

from __future__ import annotations

import os
import random
import signal
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from serving.log_reader import read_predictions
from tests.serving.conftest import event_rows
from tests.serving.streams import Stream

pytestmark = pytest.mark.integration

# Killing the writer alone is cheap (the server restarts it within a second); a killed
# server must be started again, which takes far longer, so the schedule leans on the writer
# while still killing the server alone (its writer drains, then the next one takes over) and
# the writer and then the server.
VICTIMS = ("writer", "writer", "server", "writer", "writer then server")


def crash_loop(served, serve_process, kills: int, seed: int) -> tuple[list[str], list]:
    """SIGKILL the server and/or its writer until ``kills`` kills have been sent; returns
    (acknowledged ids, rounds as (victim, acks))."""
    rng = random.Random(seed)
    config = served.config("crash", log_dir=str(served.temp.root / "logs"),
                           log_flush_seconds=0.3, release_mode="off")  # fmt: skip
    rows = event_rows(served.temp, 40, seed=seed)
    server = serve_process(config, served.bundle)
    acknowledged: list[str] = []
    rounds = []
    sent = 0
    while sent < kills:
        if server.process is None or server.process.poll() is not None:
            server.start()
        stream = Stream(server.url, rows, clients=2, seed=seed + len(rounds)).start()
        assert stream.wait_for_acknowledgements(1, timeout_s=120), stream.statuses
        time.sleep(rng.uniform(0.0, 1.5))  # then kill at a random moment of the stream
        victim = VICTIMS[len(rounds) % len(VICTIMS)]
        if victim.startswith("writer"):
            os.kill(server.writer_pid(), signal.SIGKILL)
            sent += 1
            time.sleep(rng.uniform(0.1, 1.0))  # the server goes on; its writer is restarted
        if victim.endswith("server") and sent < kills:
            server.kill()
            sent += 1
        stream.stop()
        acknowledged += stream.acknowledged
        rounds.append((victim, len(stream.acknowledged)))
    if server.process.poll() is not None:
        server.start()
    assert wait_for_empty_backlog(server.url), "the restarted writer did not catch up"
    assert server.stop() in (0, 130), server.stderr()[-2000:]
    return acknowledged, rounds


def wait_for_empty_backlog(url: str, timeout_s: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        log = httpx.get(url + "/readyz", timeout=10).json()["log"]
        if log["backlog_rows"] == 0:
            return True
        time.sleep(0.2)
    return False


@pytest.mark.slow
def test_kill_9_of_server_and_writer_loses_and_repeats_no_acknowledged_row(served, serve_process):
    acknowledged, rounds = crash_loop(served, serve_process, kills=20, seed=13)
    now = datetime.now(UTC)
    logged = read_predictions(served.temp.root / "logs", now - timedelta(hours=1), now)
    ids = logged["request_id"]
    lost = set(acknowledged) - set(ids)
    assert not lost, f"{len(lost)} acknowledged rows lost of {len(acknowledged)} ({rounds})"
    assert not ids.duplicated().any(), ids[ids.duplicated()].tolist()[:5]
    assert len(set(acknowledged)) == len(acknowledged)


def test_readiness_and_metrics_report_the_log(served, serve_process):
    """A stuck writer (SIGSTOP): requests are still acknowledged (the journal has them), the
    backlog shows in /readyz and /metrics, and once the oldest unwritten row is older than
    serving.log_max_lag_seconds the service says it is not ready. Nothing is lost."""
    logs = served.temp.root / "logs"
    config = served.config("health", log_dir=str(logs), log_max_lag_seconds=3,
                           release_mode="off")  # fmt: skip
    server = serve_process(config, served.bundle).start()
    writer = server.writer_pid()
    os.kill(writer, signal.SIGSTOP)
    try:
        for row in event_rows(served.temp, 3):
            assert httpx.post(server.url + "/v1/predict", json=row, timeout=60).status_code == 200
        log = httpx.get(server.url + "/readyz").json()["log"]
        assert log["backlog_rows"] == 3 and log["oldest_unwritten_s"] > 0
        assert log["durability"] == "fsync" and log["dead_lettered"] == 0 and log["writer_up"]
        metrics = httpx.get(server.url + "/metrics").text
        assert "ontime_log_backlog_rows 3.0" in metrics
        assert "ontime_log_dead_lettered_rows 0.0" in metrics
        assert "ontime_log_writer_up 1.0" in metrics
        deadline = time.monotonic() + 60
        while (behind := httpx.get(server.url + "/readyz")).status_code == 200:
            assert time.monotonic() < deadline, behind.text
            time.sleep(0.2)
        assert behind.status_code == 503
        assert behind.json()["reasons"] == [behind.json()["reasons"][0]]
        assert behind.json()["reasons"][0].startswith("prediction log is ")
    finally:
        os.kill(writer, signal.SIGCONT)
    assert wait_for_empty_backlog(server.url)
    assert httpx.get(server.url + "/readyz").status_code == 200
    assert server.stop() in (0, 130)
    now = datetime.now(UTC)
    assert len(read_predictions(logs, now - timedelta(hours=1), now)) == 3
