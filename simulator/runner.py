"""``ontime simulate`` as a library call: the raw world from settings, then the repo's derived
batch feature tables beside it."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

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
