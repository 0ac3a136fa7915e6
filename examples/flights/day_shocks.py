"""How much of a version's test calibration error comes from single days.

Prints, per New York day of the test split, the mean prediction against the late rate, then
the test ECE as shipped and with each day's predictions moved in log-odds until their mean
equals that day's late rate. The second needs the day's own outcomes, so no model can ship
it; the gap between the two is what day-level shocks (storms, holidays) cost.

    .venv/bin/python -m examples.flights.day_shocks [VERSION]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from ontime.features import EVENT_TIMESTAMP
from ontime.repo import load_contract
from ontime.settings import load_settings
from training import registry
from training.calibration import expected_calibration_error
from training.evaluate import snapshot_split
from training.frames import prepare
from training.snapshot import load_snapshot

CONFIG = Path(__file__).with_name("ontime.yaml")


def shifted(logit: np.ndarray, target: float) -> np.ndarray:
    """Probabilities from ``logit`` plus the one shift that makes their mean ``target``."""
    target = float(np.clip(target, 1e-4, 1 - 1e-4))
    shift = brentq(lambda s: (1 / (1 + np.exp(-(logit + s)))).mean() - target, -30.0, 30.0)
    return 1 / (1 + np.exp(-(logit + shift)))


def day_matched(p: np.ndarray, y: np.ndarray, days: np.ndarray) -> np.ndarray:
    """``p`` shifted in log-odds, one shift per day, so each day's mean is its late rate."""
    q = np.clip(p, 1e-6, 1 - 1e-6)
    logit = np.log(q / (1 - q))
    out = np.empty_like(q)
    for day in np.unique(days):
        mine = days == day
        out[mine] = shifted(logit[mine], y[mine].mean())
    return out


def main(version: str) -> None:
    settings = load_settings(CONFIG)
    loaded = registry.load_version(settings, version)
    meta = loaded.bundle.metadata
    snapshot = load_snapshot(settings, meta["snapshot_id"], meta.get("snapshot_hash"))
    rows = snapshot_split(snapshot, meta, settings).part("test")
    contract = load_contract(settings.feature_repo)
    part = prepare(rows, contract, loaded.bundle.features, loaded.bundle.categories,
                   settings.labels.column)  # fmt: skip
    p, y = loaded.bundle.predict_proba(part.frame), part.labels.astype(float)
    local = pd.to_datetime(part.rows[EVENT_TIMESTAMP], utc=True).dt.tz_convert("America/New_York")
    days = local.dt.date.astype(str).to_numpy()
    table = pd.DataFrame({"day": days, "predicted": p, "late": y}).groupby("day")
    print(table.agg(flights=("late", "size"), predicted=("predicted", "mean"),
                    late=("late", "mean")).round(3).to_string())  # fmt: skip
    print(f"test ECE as shipped:          {expected_calibration_error(p, y):.4f}")
    matched = day_matched(p, y, days)
    print(f"test ECE, each day's mean set: {expected_calibration_error(matched, y):.4f}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "1")
