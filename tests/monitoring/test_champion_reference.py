"""`ontime monitor` end to end: the reference comes from the registry, its snapshot and the
audit trail, as in production (train -> promote -> monitor, each a real command)."""

from __future__ import annotations

import json
from datetime import timedelta

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


def test_the_champion_reference_is_its_snapshot_and_stored_metrics(promoted):
    from monitoring.champion import load_reference
    from training.registry import load_alias
    from training.snapshot import load_snapshot

    settings = promoted.settings
    champion = load_alias(settings, "champion")
    reference = load_reference(settings, promoted.day(DAYS).to_pydatetime())
    assert (reference.model_name, reference.model_version) == (champion.name, "1")
    snapshot = load_snapshot(settings, champion.bundle.metadata["snapshot_id"])
    assert len(reference.rows) == len(snapshot.rows) > 1000
    assert reference.test_metrics["cost_per_order"] == pytest.approx(
        champion.bundle.metadata["test_metrics"]["cost_per_order"]
    )
    assert reference.validation_scores.size > 100
    assert reference.promoted_at is not None  # from the audit trail
    assert reference.previous_test_metrics is None  # the first champion replaced nothing


def test_the_lineage_recomputes_what_older_metadata_lacks(promoted):
    from dataclasses import replace

    from training.lineage import champion_lineage, model_lineage
    from training.registry import load_alias

    settings = promoted.settings
    end = promoted.day(DAYS).to_pydatetime()
    stored = champion_lineage(settings, "champion", end, timedelta(days=7))
    assert stored is not None and stored.previous_version is None
    champion = load_alias(settings, "champion")
    meta = {
        k: v
        for k, v in champion.bundle.metadata.items()
        if k not in ("validation_scores", "test_metrics")
    }
    older = replace(champion, bundle=replace(champion.bundle, metadata=meta))
    recomputed = model_lineage(settings, older)
    assert recomputed.validation_scores == pytest.approx(stored.validation_scores)
    assert recomputed.test_metrics["cost_per_order"] == pytest.approx(
        stored.test_metrics["cost_per_order"]
    )


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
