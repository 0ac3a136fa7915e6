"""Alerts go to a real local HTTP endpoint (when it is down they wait in the dead-letter file
and are delivered once it is back); the metric history and the overview's timeline strip."""

from __future__ import annotations

import json
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from monitoring.alerts import deliver, resend
from monitoring.decision import Decision
from monitoring.findings import Alarm
from monitoring.history import read, record
from monitoring.summary import Summary
from ontime.settings import load_settings
from ontime_cli.launcher import free_port


class Sink:
    """A real HTTP server on loopback that keeps every JSON body it is sent; the first
    ``fail_first`` requests are answered 503."""

    def __init__(self, port: int, fail_first: int = 0) -> None:
        self.bodies: list[dict] = []
        self.calls = 0
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                sink.calls += 1
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status = 503 if sink.calls <= fail_first else 200
                if status == 200:
                    sink.bodies.append(body)
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def summary(action: str, day: int = 1) -> Summary:
    alarm = Alarm("health", "null_rate", "some_feature", 0.4, 0.05, "nulls in some_feature")
    return Summary(
        window={
            "name": f"w{day}",
            "start": f"2026-01-0{day}T00:00:00+00:00",
            "end": f"2026-01-0{day + 1}T00:00:00+00:00",
            "labels_as_of": f"2026-01-0{day + 1}T00:00:00+00:00",
        },
        model={"name": "m", "version": "3", "feature_service": "svc"},
        decision=Decision(action, "input health is broken", [alarm.to_dict()]),
        alarms=[alarm],
        metrics={"health.rows": 120.0, "health.null_rate.some_feature": 0.4},
    )


@pytest.fixture
def settings(tmp_path):
    def make(port: int):
        (tmp_path / "ontime.yaml").write_text(
            "monitoring:\n  reports_dir: reports\n  alerts:\n"
            f"    webhook_url: http://127.0.0.1:{port}/hook\n    attempts: 3\n"
            "    backoff_s: 0.05\n    timeout_s: 2\n"
        )
        return load_settings(tmp_path / "ontime.yaml")

    return make


def test_a_block_is_posted_and_an_ok_is_not(settings):
    port = free_port()
    sink = Sink(port, fail_first=1)  # the first attempt is refused: retried
    try:
        assert deliver(settings(port), summary("ok")) is None
        assert deliver(settings(port), summary("block")) is True
    finally:
        sink.close()
    [body] = sink.bodies
    assert sink.calls == 2
    assert body["decision"] == "block" and body["window"]["name"] == "w1"
    assert body["evidence"][0]["feature"] == "some_feature"
    assert body["links"]["report"].endswith("w1/summary.json")


def test_an_endpoint_that_is_down_loses_nothing(settings):
    port = free_port()  # nothing listens here yet
    config = settings(port)
    assert deliver(config, summary("rollback", 1)) is False
    assert deliver(config, summary("retrain", 2)) is False
    dead = config.monitoring.dead_letter_path
    kept = [json.loads(line) for line in dead.read_text().splitlines()]
    assert [k["decision"] for k in kept] == ["rollback", "retrain"] and kept[0]["error"]

    sink = Sink(port)  # the endpoint is back
    try:
        assert resend(config) == (2, 0)
    finally:
        sink.close()
    assert [b["decision"] for b in sink.bodies] == ["rollback", "retrain"]
    assert "error" not in sink.bodies[0]
    assert not dead.exists() or dead.read_text() == ""


def test_history_keeps_each_window_once_per_labels_time(tmp_path):
    path = tmp_path / "history.sqlite"
    record(path, summary("block", 1))
    record(path, summary("block", 1))  # a re-run replaces
    later = summary("ok", 1)
    later.window["labels_as_of"] = "2026-01-09T00:00:00+00:00"
    record(path, later)
    latest, metrics = read(path)
    assert latest["decision"].tolist() == ["ok"]
    every, _ = read(path, all_labels=True)
    assert every["decision"].tolist() == ["block", "ok"]
    alarm = metrics[metrics["kind"] == "alarm"].iloc[0]
    assert (alarm["check_name"], alarm["subject"], alarm["threshold"], alarm["alarm"]) == (
        "null_rate", "some_feature", 0.05, 1,
    )  # fmt: skip
    null = metrics[metrics["check_name"] == "health.null_rate"].iloc[0]
    assert (null["subject"], null["value"]) == ("some_feature", 0.4)


def test_the_overview_shows_earlier_decisions_and_links_its_neighbours(tmp_path):
    from monitoring.history import earlier_decisions
    from monitoring.report import write_reports
    from monitoring.window import Window

    path = tmp_path / "history.sqlite"
    for day, action in ((1, "ok"), (2, "block"), (3, "inspect")):
        record(path, summary(action, day))
    window = Window.of(
        *(datetime.fromisoformat(summary("ok", 4).window[k]) for k in ("start", "end"))
    )
    earlier = earlier_decisions(path, window)
    assert earlier == [
        ("20260101T0000Z_20260102T0000Z", "ok"),
        ("20260102T0000Z_20260103T0000Z", "block"),
        ("20260103T0000Z_20260104T0000Z", "inspect"),
    ]
    this = summary("retrain", 4)
    this.window["name"] = window.name
    folder = tmp_path / window.name
    write_reports(this, folder, scores=np.array([0.2]), validation_scores=np.array([0.3]),
                  drift_run=None, parity_run=None, timeline=earlier)  # fmt: skip
    page = (folder / "overview.html").read_text()
    strip = page.split('<nav class="timeline">')[1].split("</nav>")[0]
    assert strip.count("<a ") == 4 and strip.index("block") < strip.index("retrain")
    assert 'href="../20260103T0000Z_20260104T0000Z/overview.html"' in page  # previous
    assert 'href="../20260105T0000Z_20260106T0000Z/overview.html"' in page  # next
