"""`ontime monitor` end to end: the baseline comes from the registry, its snapshot and the audit
trail, as in production (train -> promote -> monitor, each a real command)."""

from __future__ import annotations

import json

import pytest

from tests.monitoring.world import DAYS, FAULTS, TRAIN

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def promoted(world):
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)  # the world's own sqlite registry
        cutoff = world.day(TRAIN[1] + 10).isoformat()
        world.repo.ontime("train", "--cutoff", cutoff)
        world.repo.ontime("promote", "1", "--force", "--reason", "monitoring test")
        yield world


def test_the_champion_baseline_is_its_snapshot_and_stored_metrics(promoted):
    from monitoring.champion import load_baseline
    from training.registry import load_alias
    from training.snapshot import load_snapshot

    settings = promoted.settings
    champion = load_alias(settings, "champion")
    baseline = load_baseline(settings, promoted.day(DAYS).to_pydatetime())
    assert (baseline.model_name, baseline.model_version) == (champion.name, "1")
    snapshot = load_snapshot(settings, champion.bundle.metadata["snapshot_id"])
    assert len(baseline.reference) == len(snapshot.rows) > 1000
    assert baseline.test_metrics["cost_per_order"] == pytest.approx(
        champion.bundle.metadata["test_metrics"]["cost_per_order"]
    )
    assert baseline.validation_scores.size > 100
    assert baseline.promoted_at is not None  # from the audit trail
    assert baseline.previous_test_metrics is None  # the first champion replaced nothing


def test_monitor_command_judges_the_registered_champion(promoted):
    start, end = (promoted.day(d) for d in FAULTS["holiday_surge"])
    result = promoted.repo.ontime(
        "monitor",
        "--from",
        start.isoformat(),
        "--to",
        end.isoformat(),
        "--labels-as-of",
        promoted.day(DAYS - 1).isoformat(),
    )
    assert "decision: retrain" in result.stdout, result.stdout + result.stderr
    report = result.stdout.strip().splitlines()[-1].removeprefix("report: ")
    summary = json.loads((promoted.repo.root / report).parent.joinpath("summary.json").read_text())
    assert summary["model"]["version"] == "1"
    assert {a["check"] for a in summary["alarms"]} == {"degraded"}
