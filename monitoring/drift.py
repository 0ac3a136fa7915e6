"""Feature drift between the reference (training snapshot) and the served rows.

Cheap and noisy by nature: it is computed and stored for investigation. Per-feature drift
never drives the decision; only drift across most inputs at once is a signal, and a signal
can only ever lead to ``inspect``. Three views per feature: PSI on quantile bins of the
reference (full data, vectorised), the change in missing rate (Evidently drops NaN, so it
needs its own metric), and Evidently's per-column test on a sample of each side.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from monitoring import evidently_reports
from monitoring.findings import Signal
from monitoring.schema import MonitoredFeature, normalized
from ontime.settings.monitoring import DriftSettings

if TYPE_CHECKING:
    from monitoring.background import EvidentlyWorker

# Empty bins would make PSI infinite; this floor is the usual convention.
PSI_FLOOR = 1e-4


@dataclass
class DriftResult:
    """Drift metrics by name, the signal if most inputs moved, and the per-feature table."""

    metrics: dict[str, float] = field(default_factory=dict)
    signals: list[Signal] = field(default_factory=list)
    table: list[dict] = field(default_factory=list)  # one row per feature, for drift.json
    run: evidently_reports.DriftRun | None = None
    pending: Future | None = None  # an Evidently run still in the worker


def psi_numeric(reference: np.ndarray, current: np.ndarray, bins: int) -> float:
    """Population stability index on quantile bins of the reference (NaN ignored)."""
    reference = reference[np.isfinite(reference)]
    current = current[np.isfinite(current)]
    if not reference.size or not current.size:
        return float("nan")
    # Interior edges only; ties collapse duplicate edges, so a discrete feature gets fewer bins.
    edges = np.unique(np.quantile(reference, np.linspace(0.0, 1.0, bins + 1)[1:-1]))
    expected = np.bincount(
        np.searchsorted(edges, reference, side="right"), minlength=edges.size + 1
    )
    actual = np.bincount(np.searchsorted(edges, current, side="right"), minlength=edges.size + 1)
    return _psi(expected / reference.size, actual / current.size)


def psi_categorical(reference: pd.Series, current: pd.Series) -> float:
    """Population stability index over the categories of both sides (NaN ignored)."""
    expected, actual = _shares(reference), _shares(current)
    if expected.empty or actual.empty:
        return float("nan")
    categories = expected.index.union(actual.index)
    return _psi(
        expected.reindex(categories, fill_value=0.0).to_numpy(),
        actual.reindex(categories, fill_value=0.0).to_numpy(),
    )


def _shares(values: pd.Series) -> pd.Series:
    """Share of each value among the present ones, keyed by its text.

    Counted before turning keys into text: a million-row categorical is never rewritten as
    a million Python strings, and its unobserved categories are dropped.
    """
    counts = values.value_counts(dropna=True)
    counts = counts[counts > 0]
    counts.index = counts.index.astype(str)
    counts = counts.groupby(level=0).sum()  # 1 and "1" are one category as text
    return counts / counts.sum() if len(counts) else counts.astype("float64")


def _psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """PSI of two share vectors over the same bins."""
    expected = np.clip(expected, PSI_FLOOR, None)
    actual = np.clip(actual, PSI_FLOOR, None)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def sample(frame: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    """At most ``rows`` rows, drawn without replacement with a fixed seed."""
    if len(frame) <= rows:
        return frame
    picks = np.random.default_rng(seed).choice(len(frame), size=rows, replace=False)
    return frame.iloc[np.sort(picks)]


def feature_drift(
    served: pd.DataFrame,
    reference: pd.DataFrame,
    features: Sequence[MonitoredFeature],
    settings: DriftSettings,
    seed: int,
    worker: EvidentlyWorker | None = None,
) -> DriftResult:
    """PSI, missing-rate change and Evidently drift per feature; a signal, never an alarm.

    With ``worker`` (``monitoring.background.EvidentlyWorker``) Evidently's run is only
    started here; ``finish_drift`` collects it.
    """
    result = DriftResult()
    names = [f.name for f in features]
    current = normalized(sample(served[names], settings.sample_rows, seed), features)
    past = normalized(sample(reference[names], settings.sample_rows, seed + 1), features)
    job = (
        current,
        past,
        [f.name for f in features if f.is_numeric],
        [f.name for f in features if not f.is_numeric],
        settings.numeric_method,
        settings.categorical_method,
        settings.inspect_share,
    )
    if worker is not None and settings.evidently_reports:
        result.pending = worker.run_drift(*job)
    result.metrics["drift.sample_rows_current"] = float(len(current))
    result.metrics["drift.sample_rows_reference"] = float(len(past))
    for feature in features:
        ref_values, cur_values = reference[feature.name], served[feature.name]
        if feature.kind == "categorical":
            psi = psi_categorical(ref_values, cur_values)
        else:
            psi = psi_numeric(_numbers(ref_values), _numbers(cur_values), settings.psi_bins)
        missing_ref, missing_cur = float(ref_values.isna().mean()), float(cur_values.isna().mean())
        result.metrics[f"drift.psi.{feature.name}"] = psi
        result.metrics[f"drift.missing_rate_change.{feature.name}"] = missing_cur - missing_ref
        result.table.append(
            {
                "feature": feature.name,
                "kind": feature.kind,
                "psi": psi,
                "missing_rate_reference": missing_ref,
                "missing_rate_current": missing_cur,
            }
        )
    if worker is None and settings.evidently_reports:
        _record_evidently(evidently_reports.run_drift(*job), settings, result)
    return result


def finish_drift(result: DriftResult, settings: DriftSettings) -> DriftResult:
    """Wait for an Evidently run started in the worker and record it."""
    if result.pending is not None:
        run, result.pending = result.pending.result(), None
        _record_evidently(run, settings, result)
    return result


def _numbers(values: pd.Series) -> np.ndarray:
    """A column as float64 with NaN for anything missing or not a number."""
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _record_evidently(
    run: evidently_reports.DriftRun, settings: DriftSettings, result: DriftResult
) -> None:
    """Add Evidently's per-column verdicts to the drift table and metrics; a signal when
    most inputs drifted at once."""
    result.run = run
    rows = {row["feature"]: row for row in result.table}
    for name, column in run.columns.items():
        result.metrics[f"drift.evidently.score.{name}"] = column.score
        result.metrics[f"drift.evidently.drifted.{name}"] = float(column.drifted)
        rows[name].update(
            method=column.method,
            score=column.score,
            threshold=column.threshold,
            drifted=column.drifted,
        )
    result.metrics["drift.evidently.drifted_share"] = run.drifted_share
    if run.drifted_share >= settings.inspect_share:
        drifted = sorted(name for name, column in run.columns.items() if column.drifted)
        result.signals.append(
            Signal(
                "feature_drift",
                None,
                run.drifted_share,
                settings.inspect_share,
                f"most inputs drifted at once: {', '.join(drifted)} "
                f"({run.drifted_count} of {len(run.columns)} features)",
            )
        )
