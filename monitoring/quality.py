"""Delayed-label quality: what the champion's answers were worth, once outcomes are known.

The numbers are computed by the same functions training uses for its test report and
release gate (``training.metrics``, with ``training.costs``). Every cell (the aggregate,
each value of each segment column, each risk bucket) reports its sample size; a cell under
the minimum is marked ``insufficient``, never dropped. The verdict is
``monitoring.verdict``: the window against what the reference predicts for its own rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from monitoring.findings import Alarm, NotRun
from monitoring.profile import MonitoringProfile
from monitoring.reference import Reference
from monitoring.verdict import verdict
from ontime.settings.monitoring import MonitoringSettings
from serving.log_reader import PREDICTION_TIME, PROBABILITY, THRESHOLD
from training.costs import cost_per_order
from training.metrics import binary_metrics, calibration_rows

if TYPE_CHECKING:
    from ontime.settings.training import CostMatrix

LABEL = "_label"  # the joined outcome; underscored so it never clashes with a log column
OK, INSUFFICIENT = "ok", "insufficient"
COST = "cost_per_order"


@dataclass
class LabelResult:
    """Label metrics by name, the summary's label tables, and the quality verdicts."""

    metrics: dict[str, float] = field(default_factory=dict)
    alarms: list[Alarm] = field(default_factory=list)
    aggregate: dict = field(default_factory=dict)
    slices: dict[str, list[dict]] = field(default_factory=dict)  # segment column -> cells
    calibration: list[dict] = field(default_factory=list)  # per risk bucket
    coverage: float = 0.0
    sufficient: bool = False  # enough labels for a verdict on the aggregate
    intervals: dict[str, dict] = field(default_factory=dict)  # metric -> value, band, z
    not_run: list[NotRun] = field(default_factory=list)
    degraded: bool = False
    regressed_after_release: bool = False
    note: str = ""


def label_quality(
    joined: pd.DataFrame,
    segments: Sequence[str],
    reference: Reference,
    costs: CostMatrix,
    risk_buckets: int,
    checks: MonitoringSettings,
    window_end: datetime,
    profile: MonitoringProfile | None = None,
) -> LabelResult:
    """Per-slice precision, recall, cost per order and calibration, and the verdict."""
    settings = checks.labels
    result = LabelResult()
    labelled = joined[joined[LABEL].notna()].reset_index(drop=True)
    result.coverage = len(labelled) / len(joined) if len(joined) else 0.0
    result.metrics |= {
        "labels.rows": float(len(joined)),
        "labels.labelled": float(len(labelled)),
        "labels.coverage": result.coverage,
    }
    if len(labelled) == 0:
        result.not_run.append(NotRun("label_quality", None, 0, settings.min_samples))
        result.note = "no labels have arrived yet for this window"
        result.aggregate = {"rows": 0, "status": INSUFFICIENT}
        return result
    y = labelled[LABEL].astype(bool).to_numpy(dtype=int)
    p = labelled[PROBABILITY].to_numpy(dtype="float64")
    threshold = labelled[THRESHOLD].to_numpy(dtype="float64")  # per row (segment thresholds)
    enough = len(labelled) >= settings.min_samples
    result.aggregate = {"rows": len(labelled), "status": OK if enough else INSUFFICIENT}
    if enough:
        result.aggregate |= binary_metrics(y, p, threshold, costs)
        for key in ("precision", "recall", COST, "base_rate", "mean_predicted", "roc_auc"):
            if result.aggregate.get(key) is not None:
                result.metrics[f"labels.all.{key}"] = result.aggregate[key]
    present = [s for s in segments if s in labelled.columns]
    result.slices = {
        name: _slice_cells(labelled[name], y, p >= threshold, p, costs, settings.min_samples)
        for name in present
    }
    result.calibration = _calibration(calibration_rows(y, p, risk_buckets), settings.min_samples)
    result.sufficient = enough and result.coverage >= settings.min_coverage
    if not result.sufficient:
        result.not_run.append(NotRun("label_quality", None, len(labelled), settings.min_samples))
        result.note = (
            f"labels cover {result.coverage:.0%} of served rows ({len(labelled)} labelled): "
            f"a verdict needs {settings.min_coverage:.0%} and {settings.min_samples} rows"
        )
    else:
        times = labelled[PREDICTION_TIME] if PREDICTION_TIME in labelled.columns else None
        found = verdict(
            result.aggregate, y, p, threshold, times, reference, profile, checks, costs,
            window_end,
        )  # fmt: skip
        result.metrics |= found.metrics
        result.alarms += found.alarms
        result.intervals = found.intervals
        result.degraded = found.degraded
        result.regressed_after_release = found.regressed_after_release
    return result


def _slice_cells(
    column: pd.Series,
    y: np.ndarray,
    flagged: np.ndarray,
    p: np.ndarray,
    costs: CostMatrix,
    min_samples: int,
) -> list[dict]:
    """Per value of a segment column: the decision metrics, with training's cost function.

    Ranking metrics (AUC, log loss) stay on the aggregate: per slice they cost a sort each
    and add little to the question "did this slice's answers stay good enough?".
    """
    late = y.astype(bool)
    codes, values = pd.factorize(column.astype("string").fillna("<missing>"), sort=True)
    cells = []
    for index, value in enumerate(values):
        mask = codes == index
        n = int(mask.sum())
        cell = {"value": str(value), "rows": n, "positives": int(late[mask].sum())}
        cell["status"] = OK if n >= min_samples else INSUFFICIENT
        if n >= min_samples:
            tp = int((late & flagged & mask).sum())
            cell |= {
                "precision": tp / int((flagged & mask).sum()) if (flagged & mask).any() else None,
                "recall": tp / cell["positives"] if cell["positives"] else None,
                COST: cost_per_order(late[mask], flagged[mask], costs),
                "base_rate": cell["positives"] / n,
                "mean_predicted": float(p[mask].mean()),
            }
        cells.append(cell)
    return cells


def _calibration(rows: list[dict], min_samples: int) -> list[dict]:
    """Risk buckets of the window; a bucket under the minimum keeps its size, not its rates."""
    table = []
    for row in rows:
        enough = row["rows"] >= min_samples
        cell = {"bucket": int(row["bucket"]), "rows": int(row["rows"])}
        cell["status"] = OK if enough else INSUFFICIENT
        for key in ("p_low", "p_high", "mean_predicted", "observed_rate", "gap"):
            cell[key] = row[key] if enough else None
        table.append(cell)
    return table
