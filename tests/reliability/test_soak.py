"""A short soak of `ontime serve`: a steady stream for a minute after a warm-up.

Every answer is a 200, every acknowledged row is in the prediction log exactly once after a
clean stop, and the resident memory of server + log writer grows by less than 5% between
the end of the warm-up and the end of the stream. ``benchmarks/bench_reliability.py
--soak-seconds 600`` is the 10-minute version.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from serving.log_reader import read_predictions
from tests.serving.conftest import event_rows
from tests.serving.soak import soak

pytestmark = pytest.mark.integration


@pytest.mark.slow
def test_a_short_soak_has_no_errors_keeps_every_row_and_does_not_grow(served, serve_process):
    logs = served.temp.root / "logs"
    config = served.config("soak", log_dir=str(logs), log_flush_seconds=0.5, release_mode="off")
    server = serve_process(config, served.bundle).start()
    result = soak(
        server, event_rows(served.temp, 40, seed=5), seconds=60, warmup_s=20, log_dir=logs
    )
    assert server.stop() in (0, 130), server.stderr()[-2000:]
    assert result.errors == 0, result.statuses
    assert len(result.acknowledged) > 100  # the stream really ran
    now = datetime.now(UTC)
    ids = read_predictions(logs, now - timedelta(hours=1), now)["request_id"]
    assert not set(result.acknowledged) - set(ids)
    assert not ids.duplicated().any()
    assert result.memory_growth < 0.05, (result.rss_after_warmup_mb, result.samples_mb)
