"""Bad input gets one line naming the problem and a non-zero exit, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT


def ontime(*args: str, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ontime_cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess, *needles: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_negative_days(tmp_path):
    assert_one_line_error(ontime("simulate", "--days", "-3", "--out", str(tmp_path)), "days")


def test_unknown_scenario(tmp_path):
    result = ontime(
        "simulate", "--days", "5", "--scenario", "meteor_strike:1-2", "--out", str(tmp_path)
    )
    assert_one_line_error(result, "meteor_strike")


def test_malformed_scenario(tmp_path):
    result = ontime("simulate", "--scenario", "backlog_outage", "--out", str(tmp_path))
    assert_one_line_error(result, "NAME:START_DAY-END_DAY")


def test_unwritable_output_directory(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = ontime(
        "simulate", "--days", "3", "--shipments-per-day", "10", "--out", str(blocker / "raw")
    )
    assert_one_line_error(result, "cannot write")


def test_unknown_settings_key(tmp_path):
    config = tmp_path / "ontime.yaml"
    config.write_text("feature_sevice: late_delivery_v1\n")
    assert_one_line_error(ontime("--config", str(config), "simulate"), "feature_sevice")


@pytest.mark.parametrize("value", ["yesterday", "2026-13-40"])
def test_bad_timestamp(value):
    assert_one_line_error(ontime("materialize", "--end", value), value)
