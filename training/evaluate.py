"""Evaluate a model on the frozen test split of its snapshot, next to the baseline.

The same summary (metrics, calibration table, critical slice, top risk bucket, per-slice
cells) feeds the evaluation report and the release gate, so both judge by the same numbers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ontime.contract import FeatureContract, apply_contract
from ontime.errors import OntimeError
from ontime.settings import Settings
from training.baseline import fit_baseline
from training.bundle import ModelBundle
from training.calibration import risk_buckets
from training.frames import Prepared, prepare
from training.metrics import binary_metrics, calibration_rows, critical_mask, slice_metrics
from training.snapshot import Snapshot
from training.split import TimeSplit, split_by_time

log = logging.getLogger(__name__)


def snapshot_split(snapshot: Snapshot, bundle_metadata: dict, settings: Settings) -> TimeSplit:
    """Re-create the split a model was trained with (shares recorded in its metadata)."""
    shares = bundle_metadata.get("split") or {}
    manifest = snapshot.manifest
    return split_by_time(
        snapshot.rows,
        manifest.time_column,
        manifest.label_join_key,
        shares.get("train", settings.training.split.train),
        shares.get("validation", settings.training.split.validation),
    )


def summarize(
    rows: pd.DataFrame,
    labels: np.ndarray,
    probabilities: np.ndarray,
    threshold: float,
    settings: Settings,
) -> dict:
    """Everything the report and the gate read about one model on one set of rows."""
    training = settings.training
    segments = [c for c in training.segments if c in rows.columns]
    missing = sorted(set(training.segments) - set(segments))
    if missing:
        log.warning("segment column(s) %s are not in the snapshot; not reported", missing)
    return {
        "metrics": binary_metrics(
            labels, probabilities, threshold, training.costs, training.calibration_bins
        ),
        "calibration_table": calibration_rows(labels, probabilities, training.risk_buckets),
        "top_bucket": top_bucket(labels, probabilities, training.risk_buckets),
        "slices": slice_metrics(
            rows[segments],
            labels,
            probabilities,
            threshold,
            training.costs,
            training.min_slice_count,
        ),
        "critical": critical_slice(rows, labels, probabilities, threshold, settings),
    }


def top_bucket(labels: np.ndarray, probabilities: np.ndarray, buckets: int) -> dict:
    """Mean prediction vs observed rate among the highest-risk rows (the last bucket)."""
    top = risk_buckets(probabilities, buckets) == buckets - 1
    if not top.any():
        return {"rows": 0, "mean_predicted": None, "observed_rate": None, "gap": None}
    predicted, observed = float(probabilities[top].mean()), float(labels[top].mean())
    return {
        "rows": int(top.sum()),
        "mean_predicted": predicted,
        "observed_rate": observed,
        "gap": predicted - observed,
    }


def critical_slice(
    rows: pd.DataFrame,
    labels: np.ndarray,
    probabilities: np.ndarray,
    threshold: float,
    settings: Settings,
) -> dict | None:
    """Metrics of the configured critical slice; None when none is configured or present."""
    selector = settings.training.gate.critical_segment
    absent = [column for column in selector if column not in rows.columns]
    if not selector or absent:
        if absent:
            log.warning("critical segment column(s) %s are not in the snapshot", absent)
        return None
    mask = critical_mask(rows, selector)
    return {
        "selector": {k: str(v) for k, v in selector.items()},
        "rows": int(mask.sum()),
        "sufficient": bool(mask.sum() >= settings.training.min_slice_count),
        "metrics": binary_metrics(
            labels[mask], probabilities[mask], threshold, settings.training.costs
        ),
    }


@dataclass
class Evaluation:
    """The model and baseline summaries on the same test rows, plus curves for plotting."""

    model: dict
    baseline: dict
    rows: int
    rejected: int
    labels: np.ndarray
    model_probabilities: np.ndarray
    baseline_probabilities: np.ndarray

    def as_dict(self) -> dict:
        gain = _delta(self.model, self.baseline, "roc_auc")
        saving = _delta(self.baseline, self.model, "cost_per_order")
        return {
            "rows": self.rows,
            "rejected_by_contract": self.rejected,
            "model": self.model,
            "baseline": self.baseline,
            "comparison": {"roc_auc_gain": gain, "cost_saving_per_order": saving},
        }


def _delta(a: dict, b: dict, name: str) -> float | None:
    x, y = a["metrics"].get(name), b["metrics"].get(name)
    return None if x is None or y is None else float(x - y)


def accepted_by(
    rows: pd.DataFrame, contract: FeatureContract, bundles: list[ModelBundle]
) -> np.ndarray:
    """Rows every given model's contract accepts, so models are compared on the same rows."""
    keep = np.ones(len(rows), dtype=bool)
    for bundle in bundles:
        result = apply_contract(rows, contract, bundle.features, bundle.categories)
        keep &= result.accepted.to_numpy()
    return keep


def evaluate_bundle(
    bundle: ModelBundle,
    split: TimeSplit,
    contract: FeatureContract,
    settings: Settings,
    parts: dict[str, Prepared] | None = None,
) -> Evaluation:
    """Test-split metrics of ``bundle`` and of the logistic baseline on the same rows."""
    label = settings.labels.column
    if parts is None:
        parts = {
            name: prepare(split.part(name), contract, bundle.features, bundle.categories, label)
            for name in ("train", "validation", "test")
        }
    test = parts["test"]
    if test.frame.empty:
        raise OntimeError("the feature contract rejected every row of the test split")
    probabilities = bundle.predict_proba(test.frame)
    baseline = fit_baseline(parts["train"], parts["validation"], settings.training.costs)
    baseline_probabilities = baseline.predict_proba(test.frame)
    return Evaluation(
        model=summarize(test.rows, test.labels, probabilities, bundle.threshold, settings),
        baseline=summarize(
            test.rows, test.labels, baseline_probabilities, baseline.threshold, settings
        ),
        rows=len(test.rows),
        rejected=test.rejected,
        labels=test.labels,
        model_probabilities=probabilities,
        baseline_probabilities=baseline_probabilities,
    )
