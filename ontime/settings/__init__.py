"""The one settings model, loaded from ``ontime.yaml`` at the entry point.

Relative paths are resolved against the folder that holds the settings file, so a
command behaves the same from any working directory. Secrets never live here; they come
from the environment.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from ontime.errors import ConfigError
from ontime.settings.monitoring import MonitoringSettings
from ontime.settings.section import Section
from ontime.settings.serving import ServingSettings
from ontime.settings.training import TrainingSettings
from ontime.timeutil import as_utc

DEFAULT_SETTINGS_FILE = "ontime.yaml"


class SimulationSettings(Section):
    """Defaults for ``ontime simulate``; every value can be overridden on the command line."""

    start: datetime = datetime(2026, 6, 1, tzinfo=UTC)
    days: int = 120
    shipments_per_day: int = 1800
    seed: int = 7
    scenarios: list[str] = Field(
        default_factory=list, description="Fault windows as NAME:START_DAY-END_DAY."
    )

    @field_validator("start")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return as_utc(value)


class EventSettings(Section):
    """The entity frame: one row per (entity, prediction time) at which the product asks."""

    table: Path = Path("feature_repo/data/raw/prediction_events.parquet")
    time_column: str = "prediction_time"


class LabelSettings(Section):
    """Where outcomes live and when each one became known."""

    table: Path = Path("feature_repo/data/raw/deliveries.parquet")
    join_key: str = "order_id"
    column: str = "delivered_after_promise"
    available_at: str = "label_available_at"


class Settings(Section):
    """Everything a command needs to know about where things are and what to build."""

    feature_repo: Path = Path("feature_repo")
    feature_service: str = "late_delivery_v1"
    profile: Path | None = Field(
        None,
        description="Another feature_store.yaml for every command (e.g. "
        "feature_repo/profiles/spark.yaml); serving.feature_store_yaml defaults to it.",
    )
    raw_data_dir: Path = Path("feature_repo/data/raw")
    simulation: SimulationSettings = SimulationSettings()
    events: EventSettings = EventSettings()
    labels: LabelSettings = LabelSettings()
    training: TrainingSettings = TrainingSettings()
    serving: ServingSettings = ServingSettings()
    monitoring: MonitoringSettings = MonitoringSettings()

    @model_validator(mode="before")
    @classmethod
    def _serving_follows_profile(cls, data):
        """Serving reads the profile too, unless it names a profile of its own."""
        if not isinstance(data, dict) or not data.get("profile"):
            return data
        serving = data.get("serving") or {}
        if isinstance(serving, dict) and not serving.get("feature_store_yaml"):
            data = {**data, "serving": {**serving, "feature_store_yaml": data["profile"]}}
        return data

    def with_profile(self, profile: Path) -> Settings:
        """These settings with every command on another feature_store.yaml (``--profile``)."""
        serving = self.serving.model_copy(update={"feature_store_yaml": profile})
        return self.model_copy(update={"profile": profile, "serving": serving})

    def resolved(self, base: Path) -> Settings:
        """Return a copy whose relative paths (at any depth) are anchored at ``base``."""
        return _anchor(self, base)


def _anchor(section: Section, base: Path) -> Section:
    updates = {}
    for name in type(section).model_fields:
        value = getattr(section, name)
        if isinstance(value, Path) and not value.is_absolute():
            updates[name] = (base / value).resolve()
        elif isinstance(value, Section):
            updates[name] = _anchor(value, base)
        elif isinstance(value, dict) and any(isinstance(v, Path) for v in value.values()):
            updates[name] = {
                key: (base / v).resolve() if isinstance(v, Path) and not v.is_absolute() else v
                for key, v in value.items()
            }
    return section.model_copy(update=updates)


class _UniqueKeyLoader(yaml.SafeLoader):
    """The safe YAML loader, except that a key given twice in one mapping is an error.

    PyYAML keeps the last value silently, so a second ``serving:`` block would quietly
    replace the first.
    """

    def construct_mapping(self, node, deep=False):
        seen: set = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # ``<<`` merges are overridden by explicit keys on purpose
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                line = key_node.start_mark.line + 1
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{key}' (line {line})", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_settings(path: Path | None = None) -> Settings:
    """Load and validate the settings file; a missing default file means all defaults."""
    explicit = path is not None
    path = Path(path or DEFAULT_SETTINGS_FILE)
    if not path.exists():
        if explicit:
            raise ConfigError(f"settings file not found: {path}")
        return Settings().resolved(Path.cwd())
    try:
        raw = yaml.load(path.read_text(), Loader=_UniqueKeyLoader) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}".splitlines()[0]) from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} must hold a mapping at the top level")
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"{path}: {where}: {first['msg']}") from exc
    return settings.resolved(path.resolve().parent)
