"""The MLflow model registry as ontime uses it: versions, aliases, and loading a model.

Serving imports exactly two functions from here and relies on them staying stable:
``load_alias(settings, alias, isolated=...)`` and ``alias_versions(settings)`` (cheap enough
to poll every few seconds). The embedded default is a sqlite tracking store plus local
artifacts; a tracking server is used when settings or ``$MLFLOW_TRACKING_URI`` name one.
Aliases are only read here: they move in ``training.release_store``, under its lock.
"""

from __future__ import annotations

import functools
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ontime.errors import OntimeError
from ontime.settings import Settings
from training import integrity
from training.bundle import META_FILE, ModelBundle

log = logging.getLogger(__name__)

CHAMPION, CHALLENGER = "champion", "challenger"
ALIASES = (CHAMPION, CHALLENGER)
BUNDLE_ARTIFACT = "bundle"
MODEL_ARTIFACT = "model"


@dataclass(frozen=True)
class LoadedModel:
    """A registered model version, ready to score; ``alias`` is how it was asked for."""

    name: str
    version: str
    alias: str | None
    bundle: ModelBundle
    run_id: str
    digests: dict[str, str] = field(default_factory=dict)  # verified at load


def tracking_uri(settings: Settings) -> str:
    """Settings first, then ``$MLFLOW_TRACKING_URI``, then the embedded sqlite file."""
    registry = settings.training.registry
    return (
        registry.tracking_uri
        or os.environ.get("MLFLOW_TRACKING_URI")
        or f"sqlite:///{Path(registry.mlflow_db).resolve()}"
    )


def registered_name(settings: Settings) -> str:
    """The registered model's name: configured, or the FeatureService it was trained on."""
    return settings.training.registry.model_name or settings.feature_service


def _embedded_db(uri: str) -> Path | None:
    return Path(uri.removeprefix("sqlite:///")) if uri.startswith("sqlite:///") else None


@functools.lru_cache(maxsize=8)
def _client_for(uri: str):
    # Artifact downloads draw tqdm bars on stderr; a polling server must stay quiet.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def client(settings: Settings, create: bool = False):
    """An MlflowClient, or None when the embedded store does not exist yet and ``create``
    is false (so read-only callers never create an empty database as a side effect)."""
    uri = tracking_uri(settings)
    db = _embedded_db(uri)
    if db is not None and not db.exists():
        if not create:
            return None
        db.parent.mkdir(parents=True, exist_ok=True)
    return _client_for(uri)


def _not_found(exc: Exception) -> bool:
    return getattr(exc, "error_code", "") == "RESOURCE_DOES_NOT_EXIST"


def alias_versions(settings: Settings) -> dict[str, str]:
    """``{alias: version}`` of the registered model; empty when nothing is registered."""
    from mlflow.exceptions import MlflowException

    mlflow_client = client(settings)
    if mlflow_client is None:
        return {}
    try:
        model = mlflow_client.get_registered_model(registered_name(settings))
    except MlflowException as exc:
        if _not_found(exc):
            return {}
        raise OntimeError(f"model registry at {tracking_uri(settings)} failed: {exc}") from None
    return {alias: str(version) for alias, version in dict(model.aliases).items()}


def load_alias(settings: Settings, alias: str, isolated: bool = False) -> LoadedModel | None:
    """The model version an alias points at (verified), or None if the alias is not set."""
    version = alias_versions(settings).get(alias)
    if version is None:
        return None
    return load_version(settings, version, alias=alias, isolated=isolated)


def list_versions(settings: Settings) -> list[str]:
    """All registered versions, oldest first."""
    mlflow_client = client(settings)
    if mlflow_client is None:
        return []
    found = mlflow_client.search_model_versions(f"name='{registered_name(settings)}'")
    return sorted((str(v.version) for v in found), key=int)


def resolve_version(settings: Settings, ref: str | None) -> str:
    """A version number from ``3``, ``v3``, an alias name, or None (the newest version)."""
    versions = list_versions(settings)
    name = registered_name(settings)
    if not versions:
        raise OntimeError(f"no versions of model '{name}' are registered; run `ontime train`")
    if ref is None:
        return versions[-1]
    if ref in ALIASES or not ref.lstrip("vV").isdigit():
        version = alias_versions(settings).get(ref)
        if version is None:
            raise OntimeError(f"model '{name}' has no alias '{ref}'")
        return version
    number = ref.lstrip("vV")
    if number not in versions:
        raise OntimeError(
            f"model '{name}' has no version {number}; registered: {', '.join(versions)}"
        )
    return number


def model_version(settings: Settings, version: str):
    """The MLflow ModelVersion entity (run id, tags) of a registered version."""
    from mlflow.exceptions import MlflowException

    name = registered_name(settings)
    mlflow_client = client(settings)
    if mlflow_client is None:
        raise OntimeError(f"no model registry at {tracking_uri(settings)}; run `ontime train`")
    try:
        return mlflow_client.get_model_version(name, str(version))
    except MlflowException as exc:
        if _not_found(exc):
            raise OntimeError(f"model '{name}' has no version {version}") from None
        raise OntimeError(f"model registry at {tracking_uri(settings)} failed: {exc}") from None


def download_version(
    settings: Settings, version: str, run_id: str, folder: Path
) -> tuple[Path, Path]:
    """Copy a version's bundle folder and registered model folder under ``folder``."""
    import mlflow.artifacts
    from mlflow.exceptions import MlflowException

    name, uri = registered_name(settings), tracking_uri(settings)
    mlflow_client = client(settings)
    try:
        bundle = mlflow_client.download_artifacts(run_id, BUNDLE_ARTIFACT, str(folder))
        source = mlflow_client.get_model_version_download_uri(name, str(version))
        model = mlflow.artifacts.download_artifacts(
            artifact_uri=source, dst_path=str(folder / MODEL_ARTIFACT), tracking_uri=uri
        )
    except (MlflowException, OSError) as exc:
        raise OntimeError(f"model '{name}' v{version}: artifacts missing: {exc}") from None
    return Path(bundle), Path(model)


def registered_booster(model_folder: Path) -> Path:
    """The booster file a registered model folder names in its MLmodel (xgboost flavor)."""
    import yaml

    try:
        flavor = yaml.safe_load((model_folder / "MLmodel").read_text())["flavors"]["xgboost"]
        return model_folder / flavor["data"]
    except (OSError, KeyError, TypeError, yaml.YAMLError) as exc:
        raise OntimeError(f"{model_folder} is not an MLflow xgboost model: {exc}") from None


def load_version(
    settings: Settings, version: str, alias: str | None = None, isolated: bool = False
) -> LoadedModel:
    """Load a version, verified: every file must hash to what registration recorded.

    The booster is the registered model itself; the bundle supplies the contract
    categories, calibration and threshold. ``isolated`` first loads and probes the model
    in a child process (serving, promotion), so a corrupt booster cannot crash this one.
    Either way the model scores a probe row before it is returned.
    """
    name = registered_name(settings)
    what = f"model '{name}' v{version}"
    entity = model_version(settings, version)
    recorded = integrity.recorded_digests(entity.tags, what)
    with tempfile.TemporaryDirectory(prefix="ontime-bundle-") as folder:
        bundle_folder, model_folder = download_version(
            settings, version, entity.run_id, Path(folder)
        )
        booster = registered_booster(model_folder)
        loaded_files = (
            f"{BUNDLE_ARTIFACT}/{META_FILE}",
            f"{MODEL_ARTIFACT}/MLmodel",
            f"{MODEL_ARTIFACT}/{booster.relative_to(model_folder).as_posix()}",
        )
        folders = {BUNDLE_ARTIFACT: bundle_folder, MODEL_ARTIFACT: model_folder}
        integrity.verify_digests(recorded, folders, what, required=loaded_files)
        checked = None
        if isolated:
            timeout = settings.training.registry.check_timeout_seconds
            checked = integrity.check_in_child(bundle_folder, booster, what, timeout)
        try:
            bundle = ModelBundle.load(bundle_folder, booster_file=booster)
        except Exception as exc:  # hashes matched, so the registered files were never valid
            raise integrity.ModelRejected(
                f"{what} cannot be loaded: {integrity.one_line(exc)}"
            ) from None
    scores = integrity.probe(bundle, what)
    if checked is not None:
        integrity.same_scores(checked, scores, what)
    recorded_version = str(bundle.metadata.get("model_version", version))
    if recorded_version != str(version):
        raise integrity.ModelRejected(
            f"{what} carries a bundle recorded for v{recorded_version}; refusing it"
        )
    return LoadedModel(
        name=name,
        version=str(version),
        alias=alias,
        bundle=bundle,
        run_id=entity.run_id,
        digests=recorded,
    )


def artifact_digests(settings: Settings, version: str) -> dict[str, str]:
    """The SHA-256 of every file of a version, as recorded at registration."""
    what = f"model '{registered_name(settings)}' v{version}"
    return integrity.recorded_digests(model_version(settings, version).tags, what)
