"""A promotion builds the new champion's monitoring profile; a failure to build it is one
line and never undoes the promotion. (The success path runs for real in
``test_champion_reference.py``: ``ontime promote`` there stores the profile.)"""

from __future__ import annotations

import pytest
from click.testing import CliRunner


@pytest.fixture
def settings_file(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)  # the empty sqlite path below
    path = tmp_path / "ontime.yaml"
    path.write_text("training:\n  registry:\n    mlflow_db: registry/mlflow.db\n")
    return path


def test_a_failed_calibration_is_one_line_naming_the_cause(settings_file):
    from monitoring.backtest import profile_after_promotion
    from ontime.settings import load_settings

    line = profile_after_promotion(load_settings(settings_file))
    assert "\n" not in line
    assert line.startswith("monitoring profile not built (OntimeError: ")
    assert "champion" in line and "ontime monitor calibrate --hours 12" in line


def test_promote_reports_the_failure_and_keeps_the_promotion(settings_file, monkeypatch):
    """Only the release itself is stood in for (it needs a trained model); the calibration
    after it runs for real and fails: the registry has no champion to calibrate."""
    import training.release
    from ontime_cli.main import cli
    from training.release import AliasMove

    moves = []

    def promote(settings, version, force=False, reason=None):
        moves.append(version)
        return AliasMove({"from": None, "to": version, "action": "promote"})

    monkeypatch.setattr(training.release, "promote", promote)
    result = CliRunner().invoke(cli, ["--config", str(settings_file), "promote", "3"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert moves == ["3"]
    assert lines[-2] == "champion: - -> 3 (promote)"
    assert lines[-1].startswith("monitoring profile not built (OntimeError: ")
