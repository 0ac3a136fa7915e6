"""`ontime demo` on the Spark profile: the whole loop on Spark and a real Redis.

simulate -> apply (SparkSources, the Spark profile's own registry) -> training rows from
Feast's Spark point-in-time join -> gate (no force) -> promote -> serve from Redis -> replay
a clean and a faulty window -> monitor both (the parity recompute goes through Spark too).
`ontime demo` runs in a subprocess, as a user would run it, with the profile selected in
`ontime.yaml`; the harness starts the redis-server, Feast starts a local Spark.

The world is the demo's own (120 days) at 600 shipments a day, a third of the default, so
the test takes minutes, not tens of minutes; its first champion ships through the gates.
The driver gets the profile's 4 GB: at 2 GB Feast's Spark join ran it out of heap (the
profile makes the JVM exit on that, so the command fails instead of hanging), and the
subprocess has a timeout all the same.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.integration.test_redis import redis_server  # noqa: F401 (a module fixture)

pytestmark = [pytest.mark.integration, pytest.mark.spark, pytest.mark.slow]

PROFILE = "feature_repo/profiles/spark.yaml"


def demo_config(text: str) -> str:
    """The repo's own settings with the Spark profile selected and a smaller world."""
    text, shrunk = re.subn(r"(?m)^  shipments_per_day: \d+$", "  shipments_per_day: 600", text)
    assert shrunk == 1, "ontime.yaml no longer sets simulation.shipments_per_day"
    return f"profile: {PROFILE}\n{text}"


def test_demo_runs_the_whole_loop_on_spark_and_redis(redis_server, tmp_path):  # noqa: F811
    if shutil.which("java") is None:
        pytest.skip("Java is not installed; the Spark profile needs a JVM (Java 17)")
    shutil.copytree(
        ROOT / "feature_repo",
        tmp_path / "feature_repo",
        ignore=shutil.ignore_patterns("data", "__pycache__"),
    )
    config = tmp_path / "ontime.yaml"
    config.write_text(demo_config((ROOT / "ontime.yaml").read_text()))
    env = {
        **os.environ,
        "ONTIME_REDIS_CONNECTION_STRING": redis_server.connection_string,
        "ONTIME_SPARK_MASTER": "local[2]",
        "ONTIME_SPARK_DRIVER_MEMORY": "4g",
        "ONTIME_SPARK_SHUFFLE_PARTITIONS": "2",
    }
    redis_server.client().flushall()
    result = subprocess.run(
        [sys.executable, "-m", "ontime_cli", "--config", str(config), "demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    out = result.stdout
    assert result.returncode == 0, f"{out[-2000:]}\n{result.stderr[-3000:]}"
    # The first champion ships through the gates, without --force.
    assert "SHIP:" in out and "model v1: promoted (champion 1)" in out, out
    # Every replayed request of both windows was answered from Redis.
    for window in ("clean", "faulty"):
        answered = re.search(rf"replayed {window} window .*: (\d+) events, \{{'200': (\d+)\}}", out)
        assert answered and answered[1] == answered[2] and int(answered[1]) > 0, out
    assert re.search(r"clean window: decision ok \(no alarms", out), out
    assert re.search(r"faulty window: decision block \(input health is broken", out), out
    assert redis_server.client().dbsize() > 0, "nothing was served from Redis"
    # Feast was only ever opened through the Spark profile: its registry exists, and the
    # embedded default's registry and SQLite online store were never created.
    data = tmp_path / "feature_repo" / "data"
    assert (data / "registry-spark.db").exists()
    assert not (data / "registry.db").exists() and not (data / "online_store.db").exists()
