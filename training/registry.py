"""The MLflow model registry as ontime uses it: versions, aliases, and loading a model.

Serving imports exactly two functions from here and relies on them staying stable:
``load_alias(settings, alias)`` and ``alias_versions(settings)`` (cheap enough to poll every
few seconds). The embedded default is a sqlite tracking store plus local artifacts; a
tracking server is used when settings or ``$MLFLOW_TRACKING_URI`` name one.
"""

from __future__ import annotations

import functools
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ontime.errors import OntimeError
from ontime.settings import Settings
from training.bundle import ModelBundle

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


def load_alias(settings: Settings, alias: str) -> LoadedModel | None:
    """The model version an alias points at, or None if the alias is not set."""
    version = alias_versions(settings).get(alias)
    if version is None:
        return None
    return load_version(settings, version, alias=alias)


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


def load_version(settings: Settings, version: str, alias: str | None = None) -> LoadedModel:
    """Load the bundle logged with a version; the booster is the registered model itself."""
    import mlflow.xgboost
    from mlflow.exceptions import MlflowException

    name = registered_name(settings)
    mlflow_client = client(settings)
    if mlflow_client is None:
        raise OntimeError(f"no model registry at {tracking_uri(settings)}; run `ontime train`")
    try:
        model_version = mlflow_client.get_model_version(name, str(version))
    except MlflowException as exc:
        if _not_found(exc):
            raise OntimeError(f"model '{name}' has no version {version}") from None
        raise OntimeError(f"model registry at {tracking_uri(settings)} failed: {exc}") from None
    run_id = model_version.run_id
    with tempfile.TemporaryDirectory(prefix="ontime-bundle-") as folder:
        try:
            local = mlflow_client.download_artifacts(run_id, BUNDLE_ARTIFACT, folder)
        except (MlflowException, OSError) as exc:
            raise OntimeError(
                f"model '{name}' v{version}: bundle artifacts missing: {exc}"
            ) from None
        bundle = ModelBundle.load(Path(local))
    # Score with the registered booster, so the artifact named in the registry is the one
    # that decides; the bundle supplies the contract categories, calibration and threshold.
    mlflow.set_tracking_uri(tracking_uri(settings))
    mlflow.set_registry_uri(tracking_uri(settings))
    bundle.booster = mlflow.xgboost.load_model(f"models:/{name}/{version}")
    recorded = str(bundle.metadata.get("model_version", version))
    if recorded != str(version):
        raise OntimeError(
            f"model '{name}' v{version} carries a bundle recorded for v{recorded}; refusing it"
        )
    return LoadedModel(name=name, version=str(version), alias=alias, bundle=bundle, run_id=run_id)


def set_alias(settings: Settings, alias: str, version: str | None) -> None:
    """Point ``alias`` at ``version`` (None removes it)."""
    mlflow_client = client(settings, create=True)
    name = registered_name(settings)
    if version is None:
        if alias in alias_versions(settings):
            mlflow_client.delete_registered_model_alias(name, alias)
        return
    mlflow_client.set_registered_model_alias(name, alias, str(version))
