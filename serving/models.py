"""Where served models come from: a small protocol over the model registry.

The scorer never talks to MLflow. It asks a ``ModelSource`` which version each alias points
at (cheap, polled) and loads a version only when an alias moved. ``RegistryModelSource``
wraps ``training.registry``; tests use ``StaticModelSource`` with real bundles. Both sources
that read files verify them (SHA-256 against their record) and load and probe the model in
a child process first, so a tampered or corrupt artifact is refused, never served, and
cannot crash the server.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ontime.settings import Settings
from training.bundle import ModelBundle
from training.integrity import load_checked_folder


@dataclass(frozen=True)
class ServedModel:
    """One loaded registered model version (the shape of training.registry.LoadedModel)."""

    name: str
    version: str
    alias: str
    bundle: ModelBundle
    run_id: str | None = None


class ModelSource(Protocol):
    """The registry as serving sees it."""

    def alias_versions(self) -> dict[str, str]:
        """alias -> version, cheap enough to poll every few seconds."""
        ...

    def load(self, alias: str) -> ServedModel | None:
        """The model an alias points at now, or None if the alias is not set."""
        ...


class StaticModelSource:
    """Models held in memory; ``set`` and ``clear`` move aliases (tests, one-off serving)."""

    def __init__(self, models: dict[str, ServedModel] | None = None) -> None:
        self._models = dict(models or {})
        self._lock = threading.Lock()

    def set(self, alias: str, model: ServedModel) -> None:
        with self._lock:
            self._models[alias] = model

    def clear(self, alias: str) -> None:
        with self._lock:
            self._models.pop(alias, None)

    def alias_versions(self) -> dict[str, str]:
        with self._lock:
            return {alias: m.version for alias, m in self._models.items()}

    def load(self, alias: str) -> ServedModel | None:
        with self._lock:
            return self._models.get(alias)


class RegistryModelSource:
    """Aliases of the MLflow registry, through training.registry (imported on first use)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def alias_versions(self) -> dict[str, str]:
        from training.registry import alias_versions

        return {alias: str(v) for alias, v in alias_versions(self.settings).items()}

    def load(self, alias: str) -> ServedModel | None:
        from training.registry import load_alias

        loaded = load_alias(self.settings, alias, isolated=True)
        if loaded is None:
            return None
        return ServedModel(
            name=loaded.name,
            version=str(loaded.version),
            alias=alias,
            bundle=loaded.bundle,
            run_id=getattr(loaded, "run_id", None),
        )


class BundleFolderSource:
    """Serve saved bundle folders under fixed aliases (``ontime serve --bundle``), no registry.

    The version is ``folder:<folder name>`` so a response still names the exact artifact.
    """

    def __init__(
        self, folders: dict[str, Path], name: str = "local", check_timeout_s: float = 60.0
    ) -> None:
        self.folders = {alias: Path(folder) for alias, folder in folders.items()}
        self.name = name
        self.check_timeout_s = check_timeout_s

    def alias_versions(self) -> dict[str, str]:
        return {alias: f"folder:{folder.name}" for alias, folder in self.folders.items()}

    def load(self, alias: str) -> ServedModel | None:
        folder = self.folders.get(alias)
        if folder is None:
            return None
        return ServedModel(
            name=self.name,
            version=f"folder:{folder.name}",
            alias=alias,
            bundle=load_checked_folder(folder, f"bundle folder {folder}", self.check_timeout_s),
        )
