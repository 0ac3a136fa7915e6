"""Bad input gets one clear line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from tests.training.conftest import run_cli
from training.snapshot import ROWS_FILE

pytestmark = pytest.mark.integration


def refused(result, *fragments: str) -> None:
    assert result.code == 1, result.out
    assert "Traceback" not in result.err
    last = result.err.strip().splitlines()[-1]
    assert last.startswith("error: ")
    for fragment in fragments:
        assert fragment in last, last


def test_unknown_feature_service(trained):
    world, _, _ = trained
    other = world.root / "unknown_service.yaml"
    other.write_text(world.config.read_text().replace("late_delivery_v1", "late_delivery_v9"))
    refused(run_cli(other, "train"), "unknown FeatureService 'late_delivery_v9'")


def test_a_cutoff_with_no_labels(trained):
    world, _, _ = trained
    refused(run_cli(world.config, "train", "--cutoff", "2000-01-01"), "no labels available by")


def test_an_empty_window(trained):
    world, settings, _ = trained
    labels = pd.read_parquet(settings.labels.table)
    # The first labels exist, but every event near them is within the label wait.
    cutoff = (labels["label_available_at"].min() + pd.Timedelta(hours=1)).isoformat()
    refused(run_cli(world.config, "train", "--cutoff", cutoff), "empty window")


def test_an_unknown_ablated_feature(trained):
    world, _, _ = trained
    refused(run_cli(world.config, "train", "--without", "colour"), "colour", "not feature(s)")


@pytest.mark.parametrize("command", ["evaluate", "gate", "promote"])
def test_a_version_that_does_not_exist(trained, command):
    world, _, _ = trained
    refused(run_cli(world.config, command, "99"), "has no version 99")


def test_a_tampered_snapshot_is_refused(trained):
    from training.registry import load_version

    world, settings, _ = trained
    snapshot_id = load_version(settings, "1").bundle.metadata["snapshot_id"]
    path = settings.training.snapshot_dir / snapshot_id / ROWS_FILE
    backup = path.with_suffix(".bak")
    shutil.copy2(path, backup)
    try:
        rows = pd.read_parquet(path)
        label = settings.labels.column
        rows.loc[0, label] = 1 - rows.loc[0, label]  # flip one outcome
        path.chmod(0o644)
        rows.to_parquet(path, index=False)
        refused(run_cli(world.config, "evaluate", "1"), snapshot_id, "was modified")
        refused(run_cli(world.config, "gate", "1"), "was modified")
    finally:
        path.chmod(0o644)
        shutil.copy2(backup, path)
        backup.unlink()


def test_the_console_script_prints_one_line(trained):
    world, _, _ = trained
    result = world.ontime("evaluate", "v99", check=False)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: model 'late_delivery_v1'")
