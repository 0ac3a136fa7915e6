"""Write the simulated world as one parquet file per table."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pandas as pd

from simulator.world import SimulationConfig, SimulationError, generate, validate

logger = logging.getLogger(__name__)


def write_table(frame: pd.DataFrame, path: Path) -> Path:
    """Write one table so readers never see a half-written file: temp file, then rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        # Microsecond timestamps: Feast's DuckDB offline store cannot cast ns.
        frame.to_parquet(tmp, index=False, engine="pyarrow", coerce_timestamps="us")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def simulate(config: SimulationConfig, out_dir: Path) -> dict[str, Path]:
    """Generate the world for ``config`` and write it under ``out_dir``; table name -> path."""
    out_dir = Path(out_dir)
    validate(config)  # a bad config must not leave an empty folder behind
    try:
        # Fail before spending time on generation if the folder cannot exist.
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SimulationError(f"cannot write to {out_dir}: {exc.strerror or exc}") from exc
    started = time.perf_counter()
    frames = generate(config)
    try:
        paths = {name: write_table(f, out_dir / f"{name}.parquet") for name, f in frames.items()}
    except OSError as exc:
        raise SimulationError(f"cannot write to {out_dir}: {exc.strerror or exc}") from exc
    logger.info(
        "wrote %d tables to %s in %.1f s", len(paths), out_dir, time.perf_counter() - started
    )
    return paths
