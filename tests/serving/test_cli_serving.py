"""`ontime serve` as a real process, `ontime replay` against it, logs flushed on SIGINT."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import httpx
import pandas as pd
import pytest

from serving.log_process import wait_for_writer
from serving.log_reader import read_predictions
from serving.server import free_port
from tests.serving.conftest import end_of_world

pytestmark = pytest.mark.integration


def test_serve_then_replay_a_window(live_world, bundles, tmp_path):
    folder = bundles.v1.bundle.save(tmp_path / "bundle-v1")
    port = free_port()
    # Next to the world's own settings, so its relative paths still resolve.
    config = live_world.root / f"ontime-serve-{port}.yaml"
    config.write_text(
        live_world.config.read_text()
        + f"serving:\n  port: {port}\n  log_dir: {tmp_path / 'logs'}\n"
        "  log_flush_seconds: 600\n  release_mode: 'off'\n"
    )
    command = [sys.executable, "-m", "ontime_cli", "--config", str(config)]
    server = subprocess.Popen(
        [*command, "serve", "--bundle", str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/readyz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, server.stderr.read()
            time.sleep(0.5)
        end = end_of_world(live_world)
        start = end - pd.Timedelta(hours=3)
        events = live_world.table("prediction_events")
        expected = ((events["prediction_time"] >= start) & (events["prediction_time"] < end)).sum()
        result = subprocess.run(
            [*command, "replay", "--from", start.isoformat(), "--to", end.isoformat(),
             "--batch-size", "25", "--url", url],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert f"sent {expected} events" in result.stdout
        counts = {
            line.split(":")[0].strip(): int(line.split(":")[1])
            for line in result.stdout.splitlines()
            if line.startswith("  ")
        }
        assert sum(counts.values()) == expected and counts.get("200", 0) > expected // 2
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=600)
        wait_for_writer(tmp_path / "logs", 600)  # the log writer drains after the server
    logged = read_predictions(
        tmp_path / "logs", datetime.now(UTC) - timedelta(minutes=10), datetime.now(UTC)
    )
    assert len(logged) == counts["200"]
    assert set(logged["model_version"]) == {"folder:bundle-v1"}
    sent_times = pd.to_datetime(logged["prediction_time"], utc=True)
    assert sent_times.min() >= start and sent_times.max() < end
