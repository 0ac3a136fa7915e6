"""`ontime serve` stops cleanly on SIGTERM and SIGINT: logs written, nothing leaked."""

from __future__ import annotations

import signal
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from serving.log_reader import read_predictions
from tests.serving.conftest import event_rows
from tests.serving.processes import ServeProcess

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("stop_with", [signal.SIGTERM, signal.SIGINT])
def test_stopping_the_server_flushes_the_log_and_leaks_no_semaphore(
    live_world, bundles, tmp_path, stop_with
):
    folder = bundles.v1.bundle.save(tmp_path / "bundle")
    config = live_world.root / f"ontime-stop-{tmp_path.name}.yaml"
    config.write_text(
        live_world.config.read_text()
        + f"serving:\n  log_dir: {tmp_path / 'logs'}\n  log_flush_seconds: 600\n"
        "  release_mode: 'off'\n"
    )
    server = ServeProcess(config, folder, tmp_path / "serve.err").start()
    answer = httpx.post(server.url + "/v1/predict", json=event_rows(live_world, 1)[0], timeout=30)
    assert answer.status_code == 200, answer.text
    code = server.stop(stop_with)
    stderr = server.stderr()
    assert "resource_tracker" not in stderr, stderr[-2000:]
    assert "leaked" not in stderr and "Traceback" not in stderr, stderr[-2000:]
    assert code in (0, 130, -stop_with), stderr[-2000:]
    now = datetime.now(UTC)
    logged = read_predictions(tmp_path / "logs", now - timedelta(minutes=10), now)
    assert logged["request_id"].tolist() == [answer.json()["request_id"]]
