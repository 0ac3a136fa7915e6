"""Parity verdicts: how served and offline values compare, and what a feature's mismatches add
up to (rates, alarms and a few examples to look up)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from monitoring.findings import Alarm
from monitoring.schema import MonitoredFeature
from ontime.settings.monitoring import ParitySettings
from serving.log_reader import PREDICTION_TIME, REQUEST_ID

EXAMPLES = 5  # mismatching rows shown per feature


@dataclass
class ParityResult:
    """Parity metrics by name, alarms, mismatch examples and the compared samples."""

    metrics: dict[str, float] = field(default_factory=dict)
    alarms: list[Alarm] = field(default_factory=list)
    examples: dict[str, list[dict]] = field(default_factory=dict)
    served: pd.DataFrame | None = None  # normalized served sample
    offline: pd.DataFrame | None = None  # normalized offline recompute, same rows


def same_values(a: pd.Series, b: pd.Series, numeric: bool, settings: ParitySettings) -> np.ndarray:
    """Element-wise equality with NaN == NaN and a tolerance for numbers."""
    both_missing = (a.isna() & b.isna()).to_numpy()
    if numeric:
        x, y = a.to_numpy(dtype="float64"), b.to_numpy(dtype="float64")
        with np.errstate(invalid="ignore"):
            close = np.abs(x - y) <= settings.abs_tolerance + settings.rel_tolerance * np.abs(y)
        return both_missing | np.nan_to_num(close, nan=False).astype(bool)
    return both_missing | (a.astype(object) == b.astype(object)).fillna(False).to_numpy(bool)


def score_feature(
    result: ParityResult,
    rows: pd.DataFrame,
    served_n: pd.DataFrame,
    offline_n: pd.DataFrame,
    feature: MonitoredFeature,
    mismatch: np.ndarray,
    stale: np.ndarray,
    settings: ParitySettings,
    entity_keys: Sequence[str] = (),
) -> None:
    """Record one feature's mismatch, stale and skew rates, examples and alarms in ``result``."""
    name, n = feature.name, len(rows)
    skew = mismatch & ~stale
    rates = {"mismatch_rate": mismatch.mean(), "stale_rate": stale.mean(), "skew_rate": skew.mean()}
    for key, value in rates.items():
        result.metrics[f"parity.{key}.{name}"] = float(value)
    if mismatch.any():
        # Entity keys find the row in Feast; the request id only when it was read.
        keys = [c for c in (PREDICTION_TIME, REQUEST_ID, *entity_keys) if c in rows.columns]
        shown = np.flatnonzero(mismatch)[:EXAMPLES]
        result.examples[name] = [
            {
                **{k: str(rows[k].iat[i]) for k in keys},
                "served": _plain(served_n[name].iat[i]),
                "offline": _plain(offline_n[name].iat[i]),
                "class": "stale" if stale[i] else "value_skew",
            }
            for i in shown
        ]
    checks = (
        ("value_skew", skew, settings.skew_rate),
        ("stale_online", stale, settings.stale_rate),
    )
    for check, flags, limit in checks:
        count = int(flags.sum())
        if count >= settings.min_mismatches and count / n > limit:
            what = "differs from" if check == "value_skew" else "is older than"
            result.alarms.append(
                Alarm(
                    "parity",
                    check,
                    name,
                    count / n,
                    limit,
                    f"served {name} {what} the offline point-in-time value in "
                    f"{count} of {n} sampled rows ({count / n:.1%})",
                )
            )


def _plain(value: object) -> object:
    """A JSON-ready scalar: NaN becomes None, numpy scalars Python ones."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value
