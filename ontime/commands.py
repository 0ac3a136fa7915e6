"""Glue between the CLI and the rooms: each function is one command's whole job."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import pandas as pd

from ontime.errors import ConfigError, OntimeError
from ontime.settings import Settings

log = logging.getLogger(__name__)


def parse_fault(text: str):
    """``NAME:START-END`` -> FaultWindow (day indices, end exclusive)."""
    from simulator import FaultWindow

    name, _, days = text.partition(":")
    start, _, end = days.partition("-")
    try:
        return FaultWindow(name=name.strip(), start_day=int(start), end_day=int(end))
    except ValueError:
        raise ConfigError(f"scenario must look like NAME:START_DAY-END_DAY, got '{text}'") from None


def run_simulation(
    settings: Settings,
    *,
    days: int | None = None,
    shipments_per_day: int | None = None,
    seed: int | None = None,
    start: datetime | None = None,
    scenarios: Sequence[str] = (),
    out: Path | None = None,
) -> dict[str, Path]:
    """Write the raw world, then the repo's derived batch feature tables beside it."""
    from ontime.repo import load_repo_module
    from simulator import SimulationConfig, SimulationError, simulate

    defaults = settings.simulation
    windows = tuple(parse_fault(s) for s in (*defaults.scenarios, *scenarios))
    out = Path(out) if out else settings.raw_data_dir
    try:
        config = SimulationConfig(
            start=start or defaults.start,
            days=defaults.days if days is None else days,
            shipments_per_day=shipments_per_day or defaults.shipments_per_day,
            seed=defaults.seed if seed is None else seed,
            faults=windows,
        )
        paths = simulate(config, out)
    except SimulationError as exc:
        raise OntimeError(str(exc)) from None
    pipelines = load_repo_module(settings.feature_repo, "pipelines")
    try:
        paths.update(pipelines.build_batch_features(out, out.parent / "derived"))
    except OSError as exc:
        raise OntimeError(f"cannot write derived tables next to {out}: {exc}") from None
    return paths


def read_prediction_events(settings: Settings) -> pd.DataFrame:
    """The entity frame: one row per (entity, prediction_time) at which the product asks."""
    path = settings.events.table
    if not path.exists():
        raise OntimeError(f"no prediction events at {path}; run `ontime simulate` first")
    return pd.read_parquet(path)


def show_training_and_online_row(settings: Settings) -> str:
    """Materialize to the newest prediction event and show its training and online rows."""
    from ontime.repo import describe_service, load_contract, materialize, open_store
    from serving.online import online_rows
    from training.features import entity_frame, historical_rows

    events = read_prediction_events(settings)
    event = events.sort_values(settings.events.time_column).iloc[[-1]].reset_index(drop=True)
    asked_at = event[settings.events.time_column].iloc[0].to_pydatetime()
    materialize(settings.feature_repo, end=asked_at)

    store = open_store(settings.feature_repo)
    spec = describe_service(store, settings.feature_service)
    contract = load_contract(settings.feature_repo)
    entities = entity_frame(event, spec, settings.events.time_column, contract.request_time_field)
    offline = historical_rows(store, spec, entities)
    online = online_rows(store, spec, entities)
    table = pd.DataFrame(
        {
            "training (offline, point-in-time)": offline[list(spec.features)].iloc[0],
            "serving (online store)": online[list(spec.features)].iloc[0],
        }
    )
    table["match"] = [_same(a, b) for a, b in zip(table.iloc[:, 0], table.iloc[:, 1], strict=True)]
    keys = ", ".join(f"{k}={event[k].iloc[0]}" for k in spec.entity_keys)
    return (
        f"FeatureService {spec.name}; {keys}; prediction_time={asked_at.isoformat()}\n"
        f"{table.to_string()}"
    )


def reset_feature_store(repo: Path) -> None:
    """Drop the embedded registry and online store so a new world starts clean.

    Materialization state lives in the registry; reusing it across regenerated worlds would
    skip or mix history. Only the embedded default's local files are touched.
    """
    for name in ("registry.db", "online_store.db"):
        (repo / "data" / name).unlink(missing_ok=True)


def _same(a: object, b: object) -> bool:
    if pd.isna(a) and pd.isna(b):
        return True
    try:
        return abs(float(a) - float(b)) < 1e-9
    except (TypeError, ValueError):
        return a == b
