"""Delayed-label quality: what the champion's answers were worth, once outcomes are known.

The numbers are computed by the same functions training uses for its test report and
release gate (``training.metrics``, with ``training.costs``), so a window is compared with
the model's test metrics like for like. Every cell (the aggregate, each value of each
segment column, each risk bucket) reports its sample size; a cell under the minimum is
marked ``insufficient``, never dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from monitoring.findings import Alarm
from monitoring.reference import Reference
from ontime.settings.monitoring import LabelQualitySettings
from serving.log_reader import PROBABILITY, THRESHOLD
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
    degraded: bool = False
    regressed_after_release: bool = False
    note: str = ""


def label_quality(
    joined: pd.DataFrame,
    segments: Sequence[str],
    reference: Reference,
    costs: CostMatrix,
    risk_buckets: int,
    settings: LabelQualitySettings,
    window_end: datetime,
) -> LabelResult:
    """Per-slice precision, recall, cost per order and calibration, and the verdict."""
    result = LabelResult()
    labelled = joined[joined[LABEL].notna()].reset_index(drop=True)
    result.coverage = len(labelled) / len(joined) if len(joined) else 0.0
    result.metrics |= {
        "labels.rows": float(len(joined)),
        "labels.labelled": float(len(labelled)),
        "labels.coverage": result.coverage,
    }
    if len(labelled) == 0:
        result.note = "no labels have arrived yet for this window"
        result.aggregate = {"rows": 0, "status": INSUFFICIENT}
        return result
    y = labelled[LABEL].astype(bool).to_numpy(dtype=int)
    p = labelled[PROBABILITY].to_numpy(dtype="float64")
    threshold = float(labelled[THRESHOLD].median())
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
        result.note = (
            f"labels cover {result.coverage:.0%} of served rows ({len(labelled)} labelled): "
            f"a verdict needs {settings.min_coverage:.0%} and {settings.min_samples} rows"
        )
    else:
        _verdict(result, reference, settings, window_end)
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


def _worse(
    window: dict, expected: dict, settings: LabelQualitySettings
) -> list[tuple[str, float, float]]:
    """(metric, window value, limit) for each metric beyond its tolerance from ``expected``."""
    found = []
    if window.get(COST) is not None and expected.get(COST):
        limit = expected[COST] * (1 + settings.max_cost_increase)
        if window[COST] > limit:
            found.append((COST, window[COST], limit))
    drops = (("recall", settings.max_recall_drop), ("precision", settings.max_precision_drop))
    for name, drop in drops:
        known = window.get(name) is not None and expected.get(name) is not None
        if known and window[name] < expected[name] - drop:
            found.append((name, window[name], expected[name] - drop))
    return found


def _verdict(
    result: LabelResult,
    reference: Reference,
    settings: LabelQualitySettings,
    window_end: datetime,
) -> None:
    """Degraded against the test metrics; regressed when the previous model did better."""
    if not reference.test_metrics:
        result.note = "the model has no test metrics to compare with: no quality verdict"
        return
    worse = _worse(result.aggregate, reference.test_metrics, settings)
    result.degraded = bool(worse)
    result.metrics["labels.degraded"] = float(result.degraded)
    for name, value, limit in worse:
        result.alarms.append(
            Alarm(
                "quality",
                "degraded",
                None,
                value,
                limit,
                f"{name} {value:.3f} is past its limit {limit:.3f} from the test metrics",
            )
        )
    since = reference.promoted_at
    # A release after the window's end cannot explain it; one long before is not "recent".
    recent = since is not None and (
        0 <= (window_end - since).total_seconds() <= settings.rollback_window_days * 86400
    )
    if worse and recent and reference.previous_test_metrics:
        behind = _worse(result.aggregate, reference.previous_test_metrics, settings)
        result.regressed_after_release = bool(behind)
        result.metrics["labels.regressed_after_release"] = float(bool(behind))
        for name, value, limit in behind:
            result.alarms.append(
                Alarm(
                    "quality",
                    "regression_after_release",
                    None,
                    value,
                    limit,
                    f"{name} {value:.3f} is worse than the previous model's test metrics "
                    f"allow ({limit:.3f}) since the release on {since:%Y-%m-%d %H:%M}",
                )
            )
