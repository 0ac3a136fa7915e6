"""Model quality as numbers: ranking, calibration, decisions and cost, overall and per slice.

Every function returns plain dicts of floats (JSON-ready), read later by name, never by
position. A slice with fewer rows than the minimum is reported as insufficient, not dropped.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ontime.settings.training import CostMatrix
from training.calibration import calibration_table, expected_calibration_error
from training.costs import RowCosts, cost_per_order

INSUFFICIENT = "insufficient"


def _both_classes(labels: np.ndarray) -> bool:
    return 0 < labels.sum() < labels.size


def _shared(threshold: float | np.ndarray) -> float | None:
    """The one threshold every row uses, or None when it varies by segment."""
    values = np.unique(np.asarray(threshold, dtype=float))
    return float(values[0]) if values.size == 1 else None


def _take(value, mask: np.ndarray):
    """A per-row value (array, RowCosts) restricted to ``mask``; a shared one as it is."""
    return value[mask] if isinstance(value, np.ndarray | RowCosts) else value


def binary_metrics(
    labels: np.ndarray,
    probabilities: np.ndarray,
    threshold: float | np.ndarray,
    costs: CostMatrix | RowCosts,
    calibration_bins: int = 10,
) -> dict[str, float | None]:
    """ROC/PR AUC, Brier, log loss, ECE, precision/recall at the threshold, cost per order.

    ``threshold`` and ``costs`` may be per row (segment thresholds and costs); the reported
    ``threshold`` is then the one all rows share, or None when they differ.
    """
    from sklearn.metrics import (
        average_precision_score,
        brier_score_loss,
        log_loss,
        roc_auc_score,
    )

    y = np.asarray(labels, dtype=int)
    p = np.clip(np.asarray(probabilities, dtype=float), 0.0, 1.0)
    flagged = p >= threshold
    late = y == 1
    both = _both_classes(y)
    return {
        "rows": float(y.size),
        "positives": float(late.sum()),
        "base_rate": float(late.mean()) if y.size else None,
        "mean_predicted": float(p.mean()) if y.size else None,
        "roc_auc": float(roc_auc_score(y, p)) if both else None,
        "pr_auc": float(average_precision_score(y, p)) if both else None,
        "brier": float(brier_score_loss(y, p)) if y.size else None,
        "log_loss": float(log_loss(y, np.clip(p, 1e-6, 1 - 1e-6), labels=[0, 1]))
        if y.size
        else None,
        "ece": expected_calibration_error(p, y, calibration_bins) if y.size else None,
        "threshold": _shared(threshold) if y.size else None,
        "flagged_rate": float(flagged.mean()) if y.size else None,
        "precision": float(late[flagged].mean()) if flagged.any() else None,
        "recall": float(flagged[late].mean()) if late.any() else None,
        "missed_delay_rate": float((~flagged[late]).mean()) if late.any() else None,
        "cost_per_order": cost_per_order(late, flagged, costs),
    }


def slice_metrics(
    segments: pd.DataFrame,
    labels: np.ndarray,
    probabilities: np.ndarray,
    threshold: float | np.ndarray,
    costs: CostMatrix | RowCosts,
    min_count: int,
) -> dict[str, list[dict]]:
    """Metrics per value of each segment column; small cells are marked insufficient."""
    y = np.asarray(labels, dtype=int)
    p = np.asarray(probabilities, dtype=float)
    out: dict[str, list[dict]] = {}
    for column in segments.columns:
        values = segments[column].astype("string").fillna("<missing>").to_numpy()
        cells = []
        for value in sorted(set(values)):
            mask = values == value
            cell = {"value": str(value), "rows": int(mask.sum()), "positives": int(y[mask].sum())}
            if mask.sum() < min_count:
                cell["status"] = INSUFFICIENT
            else:
                cell["status"] = "ok"
                cell.update(
                    binary_metrics(y[mask], p[mask], _take(threshold, mask), _take(costs, mask))
                )
            cells.append(cell)
        out[column] = cells
    return out


def critical_mask(segments: pd.DataFrame, selector: dict[str, object]) -> np.ndarray:
    """Rows of the critical slice: every configured column equals its configured value.

    Values are compared as text, so ``true`` in YAML matches a boolean column.
    """
    mask = np.ones(len(segments), dtype=bool)
    for column, wanted in selector.items():
        text = segments[column].astype("string").str.lower().to_numpy()
        mask &= text == str(wanted).lower()
    return mask


def calibration_rows(
    labels: np.ndarray, probabilities: np.ndarray, buckets: int
) -> list[dict[str, float]]:
    """The calibration table as JSON-ready records."""
    table = calibration_table(probabilities, labels, buckets)
    return [{k: float(v) for k, v in row.items()} for row in table.to_dict(orient="records")]


def segment_frame(rows: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """The segment columns present in ``rows`` (a missing one is an error upstream)."""
    return rows[[c for c in columns if c in rows.columns]]
