"""What a profile (another ``feature_store.yaml`` for the same definitions) says, read early.

Feast learns a profile's settings only when it opens a store; ontime needs two of them
before that: which offline store it names (so ``ontime apply`` declares the sources that
store reads, and a registry applied for another store is refused with a clear line), and
which local registry file it keeps (so the demo can start a world clean).
"""

from __future__ import annotations

from pathlib import Path

from ontime.errors import ConfigError
from ontime.sources import source_class_for


def refuse_foreign_sources(views, offline_store_type: str, yaml_file: Path) -> None:
    """Refuse views whose batch source the profile's offline store cannot read, naming one.

    Each profile's registry holds the source objects it was applied with; a registry applied
    for another offline store would otherwise fail deep inside Feast's query planning.
    """
    wanted = source_class_for(offline_store_type)
    if wanted is None:  # a store this repo has no profile for: Feast will say what it needs
        return
    for view in views:
        source = view.batch_source
        if source is not None and type(source).__name__ != wanted:
            raise ConfigError(
                f"feature view '{view.name}' reads a {type(source).__name__} "
                f"('{source.name}'), but the {offline_store_type} offline store of "
                f"{yaml_file.name} reads {wanted}: run `ontime apply --profile {yaml_file}` "
                "(ontime.sources.batch_source picks the kind from the profile)"
            )


def offline_store_type(yaml_file: Path) -> str:
    """The ``offline_store`` type a feature_store.yaml names (Feast's default: dask)."""
    import yaml

    try:
        config = yaml.safe_load(yaml_file.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{yaml_file} is not valid YAML: {exc}".splitlines()[0]) from exc
    section = config.get("offline_store", "dask") if isinstance(config, dict) else "dask"
    return str(section.get("type", "dask") if isinstance(section, dict) else section)


def local_registry(profile: Path, repo: Path) -> Path | None:
    """The registry file a profile names, when it is a local file (relative to the repo)."""
    import yaml

    config = yaml.safe_load(profile.read_text()) or {}
    registry = config.get("registry") if isinstance(config, dict) else None
    path = registry.get("path") if isinstance(registry, dict) else registry
    if not isinstance(path, str) or "://" in path:
        return None
    return Path(path) if Path(path).is_absolute() else repo / path
