"""Tampered and corrupt model artifacts are refused by name, never served, and crash nothing.

A small world is trained twice into a real MLflow sqlite registry (v1 and v2, the same model)
and v1 is made champion. Each test tampers with the files it needs, as an attacker or a bad
disk would, and puts them back, so the registry is pristine between tests. A corrupt booster
that crashes XGBoost is found by trying seeded 64-byte corruptions in the child check's own
command (``integrity.child_command``), so the crash is real, not simulated.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pandas as pd
import pytest
import xgboost as xgb

from tests.integration.conftest import TempRepo, make_repo
from tests.reliability.tampering import (
    champion,
    crashing_booster,
    edited_json,
    flipped,
    folders,
    replaced,
    retagged,
)
from tests.training.conftest import run_cli
from training import integrity, registry
from training.integrity import ModelRejected

pytestmark = pytest.mark.integration

# Equal models must pass the gate against each other in this small world.
TRAINING = (
    "training:\n  label_wait: 5 days\n  model:\n    max_rounds: 60\n"
    "  gate:\n    top_bucket_tolerance: 0.5\n"
)


@pytest.fixture(scope="module")
def registry_world(tmp_path_factory) -> Iterator[tuple[TempRepo, object]]:
    from ontime.settings import load_settings

    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        temp = make_repo(tmp_path_factory.mktemp("artifacts"))
        temp.config.write_text(temp.config.read_text() + TRAINING)
        for args in (("simulate",), ("apply",), ("train",), ("train",)):
            temp.ontime(*args)
        temp.ontime("promote", "1", "--force", "--reason", "bootstrap")
        yield temp, load_settings(temp.config)


def test_registration_records_the_digest_of_every_file(registry_world):
    from training.release import history

    _, settings = registry_world
    bundle_folder, model_folder = folders(settings, "1")
    recorded = registry.artifact_digests(settings, "1")
    on_disk = {
        **integrity.folder_digests(bundle_folder, "bundle"),
        **integrity.folder_digests(model_folder, "model"),
    }
    assert recorded == on_disk
    assert {"bundle/booster.ubj", "bundle/bundle.json", "model/model.ubj"} <= set(recorded)
    registered = [e for e in history(settings) if e["action"] == "challenger" and e["to"] == "1"]
    assert registered[0]["artifacts"] == recorded  # the audit record has them too
    assert registry.load_version(settings, "1").digests == recorded


def test_an_altered_but_valid_booster_is_refused_naming_version_and_file(registry_world, tmp_path):
    _, settings = registry_world
    bundle_folder, model_folder = folders(settings, "1")
    booster = xgb.Booster(model_file=str(model_folder / "model.ubj"))
    altered = booster[: booster.num_boosted_rounds() // 2]  # a real model, half the trees
    altered.save_model(tmp_path / "altered.ubj")
    frame = integrity.probe_frame(registry.load_version(settings, "1").bundle)
    data = xgb.DMatrix(frame, enable_categorical=True)
    assert (booster.predict(data) != altered.predict(data)).any()  # it decides differently
    for path, name in ((model_folder / "model.ubj", "model/model.ubj"),
                       (bundle_folder / "booster.ubj", "bundle/booster.ubj")):  # fmt: skip
        with (
            replaced(path, (tmp_path / "altered.ubj").read_bytes()),
            pytest.raises(ModelRejected) as refused,
        ):
            registry.load_version(settings, "1")
        message = str(refused.value)
        assert "v1" in message and name in message and "\n" not in message


@pytest.mark.parametrize(
    "edit",
    [
        lambda meta: meta.update(threshold=0.9),
        lambda meta: meta["calibration"].update(y=[1.0 - y for y in meta["calibration"]["y"]]),
    ],
    ids=["threshold", "calibration"],
)
def test_an_edited_threshold_or_calibration_is_refused(registry_world, edit):
    from serving.models import RegistryModelSource

    _, settings = registry_world
    bundle_folder, _ = folders(settings, "1")
    meta = bundle_folder / "bundle.json"
    with (
        replaced(meta, edited_json(meta, edit)),
        pytest.raises(ModelRejected, match=r"v1: bundle/bundle\.json does not match"),
    ):
        RegistryModelSource(settings).load("champion")
    assert RegistryModelSource(settings).load("champion").version == "1"


def test_a_booster_that_crashes_xgboost_is_refused_in_a_child(registry_world, tmp_path):
    _, settings = registry_world
    bundle_folder, model_folder = folders(settings, "1")
    bad = crashing_booster(bundle_folder, tmp_path)
    digests = {**registry.artifact_digests(settings, "1")}
    digests["model/model.ubj"] = integrity.sha256_file(tmp_path / "candidate.ubj")
    with (
        replaced(model_folder / "model.ubj", bad),
        retagged(settings, "1", digests),
        pytest.raises(ModelRejected, match=r"v1 crashed the isolated load check \(SIG"),
    ):
        registry.load_version(settings, "1", isolated=True)


def test_serving_keeps_its_model_and_counts_a_refused_version(registry_world, caplog):
    from prometheus_client import CollectorRegistry

    from serving.models import RegistryModelSource
    from serving.release import Release

    world, settings = registry_world
    release = Release(RegistryModelSource(settings), "champion", "none", "off", 0.0)
    metrics = CollectorRegistry()
    metrics.register(release.load_failures)
    release.refresh()
    assert release.lineup.champion.version == "1"
    assert run_cli(world.config, "promote", "2").code == 0  # the alias moves to a good v2 ...
    _, model_folder = folders(settings, "2")
    try:  # ... whose booster is then swapped for another valid one
        v1_booster = (folders(settings, "1")[1] / "model.ubj").read_bytes()
        altered = xgb.Booster(model_file=bytearray(v1_booster))
        altered = altered[: altered.num_boosted_rounds() // 2].save_raw("ubj")
        with replaced(model_folder / "model.ubj", bytes(altered)):
            assert not release.refresh() and not release.refresh()  # refused, not retried
        assert release.lineup.champion.version == "1"
        sample = {"alias": "champion", "version": "2"}
        assert metrics.get_sample_value("ontime_model_load_failures_total", sample) == 1.0
        refusals = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
        assert any("v2" in m and "model/model.ubj" in m and "still serving version 1" in m
                   for m in refusals)  # fmt: skip
    finally:
        assert run_cli(world.config, "rollback").code == 0
    assert champion(settings) == "1"


def test_promote_and_rollback_refuse_a_corrupted_version(registry_world):
    from training.release import history

    world, settings = registry_world
    _, model_v2 = folders(settings, "2")
    _, model_v1 = folders(settings, "1")
    before = history(settings)
    corrupt = flipped((model_v2 / "model.ubj").read_bytes(), seed=1)
    with replaced(model_v2 / "model.ubj", corrupt):
        refused = run_cli(world.config, "promote", "2")
    assert refused.code == 1 and "Traceback" not in refused.err
    assert "promotion of v2 refused" in refused.err and "model/model.ubj" in refused.err
    assert refused.err.count("\n") == 1 and "still v1" in refused.err
    assert champion(settings) == "1" and history(settings) == before

    assert run_cli(world.config, "promote", "2").code == 0
    moved = history(settings)
    with replaced(model_v1 / "model.ubj", flipped((model_v1 / "model.ubj").read_bytes(), 1)):
        refused = run_cli(world.config, "rollback")
    assert refused.code == 1 and refused.err.count("\n") == 1
    assert "rollback to v1 refused" in refused.err and "model/model.ubj" in refused.err
    assert champion(settings) == "2" and history(settings) == moved
    assert run_cli(world.config, "rollback").code == 0
    assert champion(settings) == "1"


def test_an_edited_snapshot_with_a_recomputed_manifest_is_refused(registry_world):
    from ontime.errors import OntimeError
    from training import kept_reference
    from training.lineage import ProfileFiles, model_lineage
    from training.snapshot import MANIFEST_FILE, ROWS_FILE, content_hash, load_snapshot

    world, settings = registry_world
    meta = registry.load_version(settings, "2").bundle.metadata
    folder = settings.training.snapshot_dir / meta["snapshot_id"]
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    rows = pd.read_parquet(folder / ROWS_FILE)
    label = manifest["label"]
    dtype = rows[label].dtype
    rows[label] = (~rows[label].astype(bool)).astype(dtype)  # every label flipped
    edited = folder / "edited.parquet"
    rows.to_parquet(edited, index=False)
    sort_by = [*manifest["entity_keys"], manifest["time_column"]]
    manifest["content_hash"] = content_hash(rows, sort_by)
    with (
        replaced(folder / ROWS_FILE, edited.read_bytes()),
        replaced(folder / MANIFEST_FILE, json.dumps(manifest).encode()),
    ):
        edited.unlink()
        # The manifest agrees with the rows, so the snapshot alone looks intact ...
        assert load_snapshot(settings, meta["snapshot_id"]).manifest.rows == len(rows)
        # ... but not with what the model was trained on.
        for command in (("gate", "2"), ("evaluate", "2")):
            result = run_cli(world.config, *command)
            assert result.code == 1 and result.err.count("\n") == 1, result.err
            assert meta["snapshot_hash"][:12] in result.err and "trained on" in result.err
        # Nor may it become monitoring's reference for that model: a reference kept with
        # the model (built from the verified snapshot) is used as it is ...
        loaded = registry.load_version(settings, "2")
        folder = ProfileFiles(settings, loaded.name, "2").folder
        if (folder / kept_reference.ROWS_FILE).exists():
            kept = model_lineage(settings, loaded).reference_rows
            assert len(kept) == len(rows)  # the world is under the sample cap
            assert (kept[label].to_numpy() != rows[label].to_numpy()).all()  # not the edit
        # ... and without one, the edited snapshot is refused.
        for name in (kept_reference.ROWS_FILE, kept_reference.SCORES_FILE):
            (folder / name).unlink(missing_ok=True)
        with pytest.raises(OntimeError, match="trained on"):
            model_lineage(settings, loaded)
    assert run_cli(world.config, "gate", "2").code == 0


def test_ontime_serve_survives_a_booster_that_crashes_xgboost(served, serve_process, tmp_path):
    from training.bundle import BOOSTER_FILE, CHECKSUMS_FILE

    bad = crashing_booster(served.bundle, tmp_path / "search")
    folder = tmp_path / "bad-bundle"
    folder.mkdir()
    (folder / BOOSTER_FILE).write_bytes(bad)
    (folder / "bundle.json").write_bytes((served.bundle / "bundle.json").read_bytes())
    sums = integrity.folder_digests(folder, "x")  # the checksum file agrees: only a child
    (folder / CHECKSUMS_FILE).write_text(  # check can tell
        "".join(f"{digest}  {name.removeprefix('x/')}\n" for name, digest in sums.items())
    )
    config = served.config("bad", alias_poll_seconds=60)
    server = serve_process(config, bundle=folder).start(ready=False)
    ready = httpx.get(server.url + "/readyz", timeout=10)
    metrics = httpx.get(server.url + "/metrics", timeout=10).text
    assert server.process.poll() is None  # still running
    assert ready.status_code == 503
    assert "crashed the isolated load check (SIGSEGV)" in server.stderr()
    assert 'ontime_model_load_failures_total{alias="champion",version="folder:bad-bundle"} 1.0' in (
        metrics
    )
    assert server.stop() == 0


def tiny_bundle(calibration_y: list[float]):
    """A real (small) booster whose calibration maps every score through ``calibration_y``."""
    import numpy as np

    from training.bundle import Calibration, ModelBundle

    rows = np.random.default_rng(3).normal(size=(200, 2))
    data = xgb.DMatrix(rows, label=(rows[:, 0] > 0).astype(float), feature_names=["a", "b"])
    booster = xgb.train({"objective": "binary:logistic", "nthread": 1}, data, num_boost_round=5)
    return ModelBundle(
        booster=booster,
        calibration=Calibration(x=[0.0, 1.0], y=calibration_y),
        feature_service="svc",
        features=["a", "b"],
        model_columns=["a", "b"],
        categories={},
        threshold=0.5,
    )


def test_a_model_that_cannot_score_the_probe_row_is_not_swapped_in():
    from prometheus_client import CollectorRegistry

    from serving.models import ServedModel, StaticModelSource
    from serving.release import Release

    good = ServedModel("m", "1", "champion", tiny_bundle([0.0, 1.0]))
    broken = ServedModel("m", "2", "champion", tiny_bundle([float("nan"), float("nan")]))
    source = StaticModelSource({"champion": good})
    release = Release(source, "champion", "challenger", "off", 0.0)
    metrics = CollectorRegistry()
    metrics.register(release.load_failures)
    assert release.refresh() and release.lineup.champion.version == "1"
    sample = {"alias": "champion", "version": "2"}

    def refused() -> float:
        return metrics.get_sample_value("ontime_model_load_failures_total", sample) or 0.0

    before = refused()
    source.set("champion", broken)
    assert not release.refresh()
    assert release.lineup.champion.version == "1"
    counted = refused()
    assert counted >= before + 1.0  # the refusal is counted
    assert not release.refresh()  # polled again: still refused, and not counted again
    assert refused() == counted and release.lineup.champion.version == "1"
    assert "not probabilities" in release.last_error
