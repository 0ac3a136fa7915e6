"""train -> evaluate -> gate -> promote / rollback / history on a real Feast repo and MLflow.

Three candidates are trained on one small simulated world: v1, a deliberately worse v2
(three service features ablated, passed by name on the command line) and v3, retrained
exactly like v1 (same snapshot, deterministic fit, hence an equal model).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.training.conftest import ABLATED, run_cli
from training import audit
from training.registry import alias_versions, artifact_digests, load_version

pytestmark = pytest.mark.integration


def champion(settings) -> str | None:
    return alias_versions(settings).get("champion")


def test_training_registers_versions_with_their_lineage(trained):
    import mlflow

    _, settings, results = trained
    assert "registered version 3" in results["v3"].out
    loaded = load_version(settings, "3")
    meta = loaded.bundle.metadata
    assert meta["model_version"] == "3" and meta["run_id"] == loaded.run_id
    assert loaded.bundle.feature_service == "late_delivery_v1"
    run = mlflow.MlflowClient(f"sqlite:///{settings.training.registry.mlflow_db}").get_run(
        loaded.run_id
    )
    tags = run.data.tags
    assert tags["ontime.snapshot_id"] == meta["snapshot_id"]
    assert tags["ontime.snapshot_hash"] == meta["snapshot_hash"]
    assert tags["ontime.git_sha"]
    # Feast's MLflow integration tagged the run with the service and its feature refs.
    assert tags["feast.feature_service"] == "late_delivery_v1"
    assert "warehouse_backlog:origin_backlog" in tags["feast.feature_refs"]
    assert run.data.metrics["test_roc_auc"] > 0.5
    # v2 ignores the ablated features but still records the full service it reads.
    worse = load_version(settings, "2").bundle
    assert not set(ABLATED) & set(worse.features)
    assert worse.metadata["without"] == list(ABLATED)
    assert set(ABLATED) <= set(worse.metadata["service_features"])


def test_feast_resolves_the_service_of_a_registered_model(trained):
    import yaml
    from feast import FeatureStore
    from feast.repo_config import RepoConfig

    world, settings, _ = trained
    raw = yaml.safe_load((world.repo / "feature_store.yaml").read_text())
    uri = f"sqlite:///{settings.training.registry.mlflow_db}"
    raw["mlflow"] = {"enabled": True, "tracking_uri": uri}
    config = RepoConfig(**raw)
    config.repo_path = world.repo
    store = FeatureStore(repo_path=str(world.repo), config=config)
    assert store.mlflow.resolve_features("models:/late_delivery_v1/3") == "late_delivery_v1"


def test_same_inputs_give_the_same_snapshot_and_model(trained):
    _, settings, results = trained
    assert results["v1"].out.splitlines()[0] == results["v3"].out.splitlines()[0]
    first, again = load_version(settings, "1").bundle, load_version(settings, "3").bundle
    assert first.metadata["snapshot_hash"] == again.metadata["snapshot_hash"]
    assert first.booster.save_raw() == again.booster.save_raw()
    assert first.threshold == again.threshold


def test_the_snapshot_is_also_a_feast_saved_dataset(trained):
    from ontime.repo import open_store
    from training.snapshot import load_snapshot

    world, settings, _ = trained
    snapshot_id = load_version(settings, "1").bundle.metadata["snapshot_id"]
    snapshot = load_snapshot(settings, snapshot_id)
    assert snapshot.manifest.feast_saved_dataset == snapshot_id
    saved = open_store(world.repo).get_saved_dataset(snapshot_id)
    assert saved.feature_service_name == "late_delivery_v1"
    assert saved.tags["content_hash"] == snapshot.manifest.content_hash
    rows = saved.to_df()
    assert len(rows) == snapshot.manifest.rows
    assert rows["distance_km"].sum() == pytest.approx(snapshot.rows["distance_km"].sum())


def test_evaluate_writes_a_report_and_compares_with_the_baseline(trained):
    world, settings, _ = trained
    result = run_cli(world.config, "evaluate", "1", "--json")
    assert result.code == 0, result.err
    document = json.loads(result.out)
    model, baseline = document["model"]["metrics"], document["baseline"]["metrics"]
    for name in ("roc_auc", "pr_auc", "brier", "log_loss", "ece", "precision", "recall"):
        assert 0.0 <= model[name] <= 1.0 and 0.0 <= baseline[name] <= 1.0
    assert document["comparison"]["roc_auc_gain"] == pytest.approx(
        model["roc_auc"] - baseline["roc_auc"]
    )
    cells = document["model"]["slices"]["origin_warehouse"]
    assert {cell["status"] for cell in cells} <= {"ok", "insufficient"}
    assert sum(cell["rows"] for cell in cells) == document["rows"]
    folder = settings.training.report_dir / "late_delivery_v1" / "v1"
    for name in ("index.html", "evaluation.json", "calibration.png", "pr_curve.png", "scores.png"):
        assert (folder / name).stat().st_size > 0, name


def test_gate_promote_rollback_and_history_round_trip(trained):
    world, settings, _ = trained
    log_path = settings.training.registry.audit_log

    # No champion yet: the gate compares with the baseline and says so.
    first_gate = run_cli(world.config, "gate", "1")
    assert "no champion yet" in first_gate.out
    refused = run_cli(world.config, "promote", "1", "--force")
    assert refused.code == 1 and "--force requires --reason" in refused.err
    assert champion(settings) is None
    forced = run_cli(world.config, "promote", "1", "--force", "--reason", "bootstrap")
    assert forced.code == 0, forced.err
    assert champion(settings) == "1"

    # The worse candidate is blocked by name, and a refused promote changes nothing.
    blocked = run_cli(world.config, "gate", "2")
    assert blocked.code == 2
    assert blocked.out.startswith("BLOCK")
    assert "[FAIL] expected_cost" in blocked.out
    before = audit.read(log_path)
    refused = run_cli(world.config, "promote", "2")
    assert refused.code == 1 and "refused" in refused.err and "still v1" in refused.err
    assert refused.err.count("\n") == 1 and "Traceback" not in refused.err
    assert champion(settings) == "1" and audit.read(log_path) == before

    # The equal candidate ships; promoting it clears the challenger alias.
    shipped = run_cli(world.config, "gate", "3")
    assert shipped.code == 0 and shipped.out.startswith("SHIP"), shipped.out
    report = json.loads(Path(shipped.out.rsplit("report: ", 1)[1].strip()).read_text())
    assert report["decision"] == "SHIP" and report["reference"]["label"] == "champion v1"
    promoted = run_cli(world.config, "promote", "3")
    assert promoted.code == 0, promoted.err
    assert alias_versions(settings) == {"champion": "3"}

    rolled = run_cli(world.config, "rollback", "--reason", "drill")
    assert rolled.code == 0 and champion(settings) == "1"
    again = run_cli(world.config, "rollback")
    assert again.code == 1 and "nothing to roll back to" in again.err
    assert champion(settings) == "1"

    history = run_cli(world.config, "history", "--json")
    moves = [json.loads(line) for line in history.out.splitlines()]
    assert [(m["alias"], m["from"], m["to"], m["action"]) for m in moves] == [
        ("challenger", None, "1", "challenger"),
        ("challenger", "1", "2", "challenger"),
        ("challenger", "2", "3", "challenger"),
        ("champion", None, "1", "force-promote"),
        ("champion", "1", "3", "promote"),
        ("challenger", "3", None, "clear"),
        ("champion", "3", "1", "rollback"),
    ]
    assert moves[3]["why"] == "bootstrap" and moves[3]["gate"]["decision"] == "BLOCK"
    assert moves[4]["gate"]["decision"] == "SHIP" and moves[6]["why"] == "drill"
    # Each move records the SHA-256 of the files it verified: those registration recorded.
    assert moves[4]["artifacts"] == artifact_digests(settings, "3") == moves[2]["artifacts"]
    assert moves[6]["artifacts"] == artifact_digests(settings, "1")
    assert all(m["who"] and pd.Timestamp(m["at"]).tzinfo for m in moves)
    readable = run_cli(world.config, "history")
    assert len(readable.out.splitlines()) == len(moves)


def test_training_leaves_no_tracking_uri_behind_for_the_next_project(trained):
    """MLflow's set_tracking_uri exports MLFLOW_TRACKING_URI; a second project trained later
    in the same process (a notebook, this suite) must still resolve its own registry."""
    import os
    from pathlib import Path

    import mlflow

    _, settings, _ = trained
    assert "MLFLOW_TRACKING_URI" not in os.environ
    ours = str(Path(settings.training.registry.mlflow_db).resolve())
    assert ours not in mlflow.get_tracking_uri()
