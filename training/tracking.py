"""Record a training run in MLflow and register its model.

The run carries params, test metrics, the snapshot id and hash, the FeatureService and its
features, and the git revision. The booster is logged in XGBoost's own format by
``mlflow.xgboost.log_model``; the bundle folder (calibration, categories, threshold) and
the evaluation report are logged as run artifacts. Last, the version is tagged with the
SHA-256 of each file it is loaded from (``training.integrity``).

Feast 0.67 ships an MLflow integration (``store.mlflow``). It is used here for what works
with an embedded store: run tags (``feast.project``, ``feast.feature_service``,
``feast.feature_refs``, ...) and the ``feast.feature_service`` tag on the model version, so
``store.mlflow.resolve_features("models:/<name>/champion")`` answers which service a model
needs. Its ``log_model`` returns nothing (no model URI to register), so the model is logged
with MLflow directly and ``feast_features.json`` is written in Feast's format here.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import yaml

from ontime.repo import ServiceSpec
from ontime.settings import Settings
from training import integrity, registry
from training.bundle import ModelBundle
from training.snapshot import Snapshot

log = logging.getLogger(__name__)

FEAST_FEATURES_FILE = "feast_features.json"


def git_revision(path: Path) -> dict[str, object]:
    """The commit of the code that trains, and whether the work tree had changes."""

    def git(*args: str) -> str | None:
        try:
            result = subprocess.run(
                ["git", "-C", str(path), *args], capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return result.stdout.strip() if result.returncode == 0 else None

    sha = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"git_sha": sha or "unknown", "git_dirty": bool(status) if sha else None}


def feast_mlflow(settings: Settings, uri: str):
    """Feast's MLflow client bound to our tracking URI, or None if it cannot be used.

    The repo's feature_store.yaml is read as is and an ``mlflow`` section is added in
    memory (auto_log off: retrievals happen before the run starts), so the repo files stay
    untouched.
    """
    if not settings.training.registry.feast_mlflow:
        return None
    try:
        from feast import FeatureStore
        from feast.repo_config import RepoConfig

        repo = Path(settings.feature_repo).resolve()
        raw = yaml.safe_load(os.path.expandvars((repo / "feature_store.yaml").read_text()))
        raw["mlflow"] = {"enabled": True, "tracking_uri": uri, "auto_log": False}
        config = RepoConfig(**raw)
        config.repo_path = repo
        return FeatureStore(repo_path=str(repo), config=config).mlflow
    except Exception as exc:  # the integration is a convenience; plain MLflow still works
        log.warning("Feast's MLflow integration is unavailable (%s); using MLflow directly", exc)
        return None


def ensure_experiment(mlflow_client, settings: Settings) -> str:
    """The experiment id; created with the local artifact folder when embedded."""
    registry_settings = settings.training.registry
    found = mlflow_client.get_experiment_by_name(registry_settings.experiment)
    if found is not None:
        return found.experiment_id
    location = None
    if registry.tracking_uri(settings).startswith("sqlite:///"):
        folder = Path(registry_settings.artifact_dir).resolve()
        folder.mkdir(parents=True, exist_ok=True)
        location = folder.as_uri()
    return mlflow_client.create_experiment(registry_settings.experiment, artifact_location=location)


def flat_metrics(evaluation: dict) -> dict[str, float]:
    """Run metrics by name: test metrics of model and baseline, critical slice, top bucket."""
    out: dict[str, float] = {}
    for who in ("model", "baseline"):
        prefix = "test_" if who == "model" else "baseline_test_"
        for name, value in evaluation[who]["metrics"].items():
            if value is not None:
                out[prefix + name] = float(value)
    critical = evaluation["model"].get("critical") or {}
    for name, value in (critical.get("metrics") or {}).items():
        if value is not None:
            out["critical_" + name] = float(value)
    gap = evaluation["model"]["top_bucket"].get("gap")
    if gap is not None:
        out["top_bucket_gap"] = float(gap)
    return out


def record_digests(settings: Settings, version: str, run_id: str) -> dict[str, str]:
    """Tag a version with the SHA-256 of every file it is loaded from, as stored.

    The files are hashed as the registry returns them (not as they were written), and the
    tag is set last: a registration that stopped half-way has no tag, so it never loads.
    """
    with tempfile.TemporaryDirectory(prefix="ontime-digest-") as folder:
        bundle_folder, model_folder = registry.download_version(
            settings, version, run_id, Path(folder)
        )
        digests = {
            **integrity.folder_digests(bundle_folder, registry.BUNDLE_ARTIFACT),
            **integrity.folder_digests(model_folder, registry.MODEL_ARTIFACT),
        }
    registry.client(settings).set_model_version_tag(
        registry.registered_name(settings),
        version,
        integrity.DIGESTS_TAG,
        json.dumps(digests, sort_keys=True),
    )
    return digests


@contextmanager
def bound_to(uri: str) -> Iterator[None]:
    """Point MLflow's fluent API at ``uri`` for one block, then put everything back.

    ``mlflow.set_tracking_uri`` is process-global and also exports ``MLFLOW_TRACKING_URI``,
    which ``registry.tracking_uri`` reads: left set, a second project trained later in the
    same process (a notebook, a test suite) would register into the first one's registry.
    """
    import mlflow
    from mlflow.tracking._model_registry import utils as registry_utils
    from mlflow.tracking._tracking_service import utils as tracking_utils

    saved_env = os.environ.get("MLFLOW_TRACKING_URI")
    saved = tracking_utils._tracking_uri, registry_utils._registry_uri
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        yield
    finally:
        tracking_utils.set_tracking_uri(saved[0])  # None unsets the variable again
        registry_utils._registry_uri = saved[1]
        if saved_env is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = saved_env


def log_training_run(
    settings: Settings,
    *,
    spec: ServiceSpec,
    snapshot: Snapshot,
    bundle: ModelBundle,
    evaluation: dict,
    params: dict,
    write_report: Callable[[str], Path],
) -> tuple[str, str]:
    """One MLflow run: log, register the booster, then log the bundle and report.

    Returns ``(version, run_id)``. ``write_report(version)`` writes the report folder once the
    version is known, so the report names the artifact it describes.
    """
    uri = registry.tracking_uri(settings)
    with bound_to(uri):
        return _record_run(settings, uri, spec, snapshot, bundle, evaluation, params, write_report)


def _record_run(settings, uri, spec, snapshot, bundle, evaluation, params, write_report):
    import mlflow
    import mlflow.xgboost

    mlflow_client = registry.client(settings, create=True)
    experiment_id = ensure_experiment(mlflow_client, settings)
    name = registry.registered_name(settings)
    manifest = snapshot.manifest
    tags = {
        "ontime.feature_service": spec.name,
        "ontime.features": ",".join(bundle.features),
        "ontime.service_features": ",".join(spec.features),
        "ontime.snapshot_id": manifest.id,
        "ontime.snapshot_hash": manifest.content_hash,
        **{f"ontime.{k}": str(v) for k, v in git_revision(Path(__file__).parent).items()},
    }
    feast = feast_mlflow(settings, uri)
    start = feast.start_run if feast is not None else mlflow.start_run
    with start(run_name=f"train-{manifest.id}", tags=tags, experiment_id=experiment_id) as run:
        run_id = run.info.run_id
        mlflow.log_params({k: str(v)[:500] for k, v in params.items()})
        mlflow.log_metrics(flat_metrics(evaluation))
        if feast is not None:
            feast.log_feature_retrieval(
                feature_refs=list(spec.feature_refs),
                entity_count=manifest.rows,
                duration_seconds=manifest.retrieval_seconds,
                retrieval_type="historical",
                feature_service_name=spec.name,
            )
        info = mlflow.xgboost.log_model(
            bundle.booster, name=registry.MODEL_ARTIFACT, model_format="ubj"
        )
        mlflow.log_dict(list(spec.feature_refs), FEAST_FEATURES_FILE)
        register = feast.register_model if feast is not None else mlflow.register_model
        version = str(register(info.model_uri, name).version)
        for key, value in tags.items():
            mlflow_client.set_model_version_tag(name, version, key, value)
        bundle.metadata.update(model_name=name, model_version=version, run_id=run_id)
        with tempfile.TemporaryDirectory(prefix="ontime-bundle-") as folder:
            bundle.save(Path(folder))
            mlflow.log_artifacts(folder, registry.BUNDLE_ARTIFACT)
        mlflow.log_artifacts(str(write_report(version)), "evaluation")
        mlflow.log_text(json.dumps(asdict(manifest), indent=2), "snapshot/manifest.json")
        record_digests(settings, version, run_id)
    log.info("registered %s version %s (run %s)", name, version, run_id)
    return version, run_id
