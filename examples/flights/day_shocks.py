"""How much of a version's test calibration error comes from single days.

Prints, per New York day of the test split, the mean prediction against the late rate, then
the test ECE as shipped and with each day's predictions moved in log-odds until their mean
equals that day's late rate. The second needs the day's own outcomes, so no model can ship
it; the gap between the two is what day-level shocks (storms, holidays) cost.

    .venv/bin/python -m examples.flights.day_shocks [VERSION]   # number or alias; newest
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import expit, logit

from ontime.errors import OntimeError
from ontime.features import EVENT_TIMESTAMP
from ontime.repo import load_contract
from ontime.settings import load_settings
from training.calibration import expected_calibration_error
from training.frames import prepare
from training.pipeline import version_split

CONFIG = Path(__file__).with_name("ontime.yaml")


def shifted(log_odds: np.ndarray, target: float) -> np.ndarray:
    """Probabilities from ``log_odds`` plus the one shift that makes their mean ``target``."""
    target = float(np.clip(target, 1e-4, 1 - 1e-4))
    shift = brentq(lambda s: expit(log_odds + s).mean() - target, -30.0, 30.0)
    return expit(log_odds + shift)


def day_matched(p: np.ndarray, y: np.ndarray, days: np.ndarray) -> np.ndarray:
    """``p`` shifted in log-odds, one shift per day, so each day's mean is its late rate."""
    log_odds = logit(np.clip(p, 1e-6, 1 - 1e-6))
    out = np.empty_like(log_odds)
    for day in np.unique(days):
        mine = days == day
        out[mine] = shifted(log_odds[mine], y[mine].mean())
    return out


def main(ref: str | None) -> None:
    settings = load_settings(CONFIG)
    _, loaded, _, split = version_split(settings, ref)
    contract = load_contract(settings.feature_repo)
    part = prepare(split.test, contract, loaded.bundle.features, loaded.bundle.categories,
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
    try:
        main(sys.argv[1] if len(sys.argv) > 1 else None)
    except OntimeError as exc:
        sys.exit(f"error: {exc}")
