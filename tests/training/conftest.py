"""A small simulated world, applied for real, plus an in-process ``ontime`` runner.

Commands run through the real entry point (``ontime_cli.main.main``) in this process, so the
slow imports (Feast, MLflow, XGBoost) are paid once; MLflow uses a sqlite file in the temp
folder. One test also runs the console script in a subprocess.
"""

from __future__ import annotations

import io
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest

from tests.integration.conftest import TempRepo, make_repo

WORLD = """feature_repo: feature_repo
feature_service: late_delivery_v1
raw_data_dir: feature_repo/data/raw
simulation:
  days: 40
  shipments_per_day: 150
  seed: 5
training:
  segments: [carrier, origin_warehouse, expedited]
  min_slice_count: 40
  label_wait: 5 days
"""
# The small world's top risk bucket has ~160 test rows (standard error ~0.036), so its
# calibration tolerance is wider than the default.
GATE = "  gate:\n    critical_segment: {expedited: true}\n    top_bucket_tolerance: 0.10\n"
# A deliberately worse candidate leaves out these FeatureService features (by name, on the
# command line; the training code never names a feature).
ABLATED = ("hours_since_last_scan", "expedited", "distance_km")


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_cli(config: Path, *args: str) -> Result:
    """``ontime --config CONFIG ARGS`` through ``ontime_cli.main.main``, exit code captured."""
    from ontime_cli.main import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    argv = ["ontime", "--config", str(config), *args]
    with mock.patch.object(sys, "argv", argv), redirect_stdout(out), redirect_stderr(err):
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    return Result(code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="session")
def world(tmp_path_factory, monkeypatch_session) -> TempRepo:
    temp = make_repo(tmp_path_factory.mktemp("training_world"))
    temp.config.write_text(WORLD + GATE)
    temp.ontime("simulate")
    temp.ontime("apply")
    return temp


@pytest.fixture(scope="session")
def trained(world):
    """v1, a worse v2 (ablated) and v3 trained exactly like v1, all on the same snapshot."""
    from ontime.settings import load_settings

    results = {
        "v1": run_cli(world.config, "train"),
        "v2": run_cli(world.config, "train", *(f"--without={name}" for name in ABLATED)),
        "v3": run_cli(world.config, "train"),
    }
    for name, result in results.items():
        assert result.code == 0, f"train {name} failed: {result.err[-2000:]}"
    return world, load_settings(world.config), results
