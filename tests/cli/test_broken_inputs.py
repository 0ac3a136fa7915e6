"""Broken repos and tables: every ``ontime`` command answers one line and a non-zero exit.

A small world is simulated and applied once; each case then breaks one thing (a relative
source path, a missing or empty table, a wrong column or dtype, an unknown service) and runs
the command a user would run next, in a subprocess.
"""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from tests.cli.test_errors import assert_one_line_error
from tests.integration.conftest import TempRepo, make_repo

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> TempRepo:
    temp = make_repo(tmp_path_factory.mktemp("broken"))
    temp.ontime("simulate")
    temp.ontime("apply")
    return temp


def with_settings(world: TempRepo, name: str, **lines: str) -> TempRepo:
    """The same world under another settings file, with top-level keys replaced."""
    text = world.config.read_text()
    text = text.replace("events:\n  table: feature_repo/data/raw/prediction_events.parquet\n", "")
    for key, value in lines.items():
        kept = [line for line in text.splitlines() if not line.startswith(f"{key}:")]
        text = "\n".join([*kept, f"{key}: {value}"]) + "\n"
    config = world.root / f"{name}.yaml"
    config.write_text(text)
    return TempRepo(root=world.root, repo=world.repo, config=config)


def events_settings(world: TempRepo, name: str, frame: pd.DataFrame | None) -> TempRepo:
    path = world.root / f"{name}.parquet"
    if frame is not None:
        frame.to_parquet(path, index=False)
    return with_settings(world, name, events=f"{{table: {path}}}")


def test_relative_source_path_is_refused_at_apply(tmp_path):
    temp = make_repo(tmp_path)
    network = temp.repo / "network.py"
    source = network.read_text()
    anchored = 'path=table_path("raw/warehouse_backlog.parquet")'
    assert anchored in source  # the edit below must change something
    network.write_text(source.replace(anchored, 'path="data/raw/warehouse_backlog.parquet"'))
    result = temp.ontime("apply", check=False)
    assert_one_line_error(result, "warehouse_backlog", "relative path")
    assert not (temp.repo / "data" / "registry.db").exists()  # nothing reached the registry


def test_missing_events_table(world):
    result = events_settings(world, "missing", None).ontime("train", check=False)
    assert_one_line_error(result, "missing.parquet")


def test_events_without_the_time_column(world):
    frame = pd.read_parquet(world.raw / "prediction_events.parquet").drop(columns="prediction_time")
    result = events_settings(world, "no_time", frame).ontime("train", check=False)
    assert_one_line_error(result, "prediction_time")


def test_events_with_a_wrong_dtype(world):
    frame = pd.read_parquet(world.raw / "prediction_events.parquet")
    frame["prediction_time"] = "not a time"
    result = events_settings(world, "bad_dtype", frame).ontime("train", check=False)
    assert_one_line_error(result, "not a time")


def test_empty_events_table(world):
    frame = pd.read_parquet(world.raw / "prediction_events.parquet").iloc[:0]
    result = events_settings(world, "empty", frame).ontime("train", check=False)
    assert_one_line_error(result, "empty")


def test_unknown_feature_service(world):
    result = with_settings(world, "unknown", feature_service="late_delivery_v9").ontime(
        "train", check=False
    )
    assert_one_line_error(result, "late_delivery_v9")


def test_a_source_table_with_a_wrong_dtype(world, tmp_path):
    """A library error deep inside Feast still reaches the user as one line with a hint."""
    broken = tmp_path / "world"
    shutil.copytree(world.root, broken, ignore=shutil.ignore_patterns("registry.db"))
    temp = TempRepo(root=broken, repo=broken / "feature_repo", config=broken / "ontime.yaml")
    backlog = pd.read_parquet(temp.raw / "warehouse_backlog.parquet")
    backlog["event_timestamp"] = "yesterday"
    backlog.to_parquet(temp.raw / "warehouse_backlog.parquet", index=False)
    assert temp.ontime("apply", check=False).returncode == 0
    result = temp.ontime("train", check=False)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and result.stderr.strip().endswith(errors[0]), result.stderr
    assert "event_timestamp" in errors[0] and "rerun with -v" in errors[0]
    verbose = temp.ontime("-v", "train", check=False)
    assert verbose.returncode != 0 and "Traceback" in verbose.stderr
