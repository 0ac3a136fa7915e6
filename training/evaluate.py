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
from training.baseline import BASELINE_KIND, fit_baseline
from training.bundle import SEGMENT_THRESHOLDS, ModelBundle
from training.calibration import risk_buckets
from training.costs import RowCosts, row_costs
from training.crossfit import Development, development
from training.frames import prepare
from training.metrics import binary_metrics, calibration_rows, critical_mask, slice_metrics
from training.snapshot import Snapshot
from training.split import TimeSplit, split_by_time
from training.verdict import verdict

log = logging.getLogger(__name__)


def snapshot_split(snapshot: Snapshot, bundle_metadata: dict, settings: Settings) -> TimeSplit:
    """Re-create the split a model was trained with (shares recorded in its metadata).

    The snapshot must be the one the model recorded: ``load_snapshot`` held its rows against
    the manifest's hash, and this holds that hash against the model's.
    """
    shares = bundle_metadata.get("split") or {}
    manifest = snapshot.manifest
    recorded = bundle_metadata.get("snapshot_hash")
    if recorded != manifest.content_hash:
        raise OntimeError(
            f"snapshot '{snapshot.id}' has content hash {manifest.content_hash[:12]}, but the "
            f"model was trained on {str(recorded)[:12]}; refusing to evaluate on it"
        )
    return split_by_time(
        snapshot.rows,
        manifest.time_column,
        manifest.label_join_key,
        shares.get("train", settings.training.split.train),
        shares.get("validation", settings.training.split.validation),
    )


def row_thresholds(bundle: ModelBundle, rows: pd.DataFrame) -> np.ndarray:
    """Each row's decision threshold, exactly as serving picks it (``bundle.row_thresholds``)."""
    column = bundle.threshold_column
    if column is None or column not in rows.columns:
        return np.full(len(rows), bundle.threshold, dtype=float)
    return bundle.row_thresholds(rows[column].tolist())


def summarize(
    rows: pd.DataFrame,
    labels: np.ndarray,
    probabilities: np.ndarray,
    threshold: float | np.ndarray,
    settings: Settings,
) -> dict:
    """Everything the report and the gate read about one model on one set of rows.

    ``threshold`` is one for all rows or one per row; costs are per row when segment costs
    are configured, so the critical segment's misses cost what the policy says.
    """
    training = settings.training
    segments = [c for c in training.segments if c in rows.columns]
    missing = sorted(set(training.segments) - set(segments))
    if missing:
        log.warning("segment column(s) %s are not in the snapshot; not reported", missing)
    costs = row_costs(rows, training.costs, training.segment_costs)
    return {
        "metrics": binary_metrics(
            labels, probabilities, threshold, costs, training.calibration_bins
        ),
        "calibration_table": calibration_rows(labels, probabilities, training.risk_buckets),
        "top_bucket": top_bucket(labels, probabilities, training.risk_buckets),
        "slices": slice_metrics(
            rows[segments],
            labels,
            probabilities,
            threshold,
            costs,
            training.min_slice_count,
        ),
        "critical": critical_slice(rows, labels, probabilities, threshold, costs, settings),
    }


def score_rows(
    bundle: ModelBundle,
    rows: pd.DataFrame,
    contract: FeatureContract,
    label: str,
    settings: Settings,
) -> dict:
    """The summary of ``bundle`` on raw rows: contract, calibrated scores, its thresholds."""
    part = prepare(rows, contract, bundle.features, bundle.categories, label)
    probabilities = bundle.predict_proba(part.frame)
    summary = summarize(
        part.rows, part.labels, probabilities, row_thresholds(bundle, part.rows), settings
    )
    return summary | {"decision_rule": decision_rule(bundle)}


def decision_rule(bundle: ModelBundle) -> dict:
    """The global threshold and the per-segment ones a bundle decides with."""
    segments = bundle.metadata.get(SEGMENT_THRESHOLDS) or {}
    return {
        "threshold": bundle.threshold,
        "column": segments.get("column"),
        "values": segments.get("values") or {},
    }


def baseline_for(
    bundle: ModelBundle,
    split: TimeSplit,
    contract: FeatureContract,
    settings: Settings,
    dev: Development | None = None,
) -> ModelBundle:
    """The logistic baseline on ``bundle``'s features and categories, cross-fitted on the
    same development rows and folds (the bundle itself when it is that baseline)."""
    if bundle.metadata.get("model_kind") == BASELINE_KIND:
        return bundle
    if dev is None:
        dev = development(
            split,
            contract,
            bundle.features,
            bundle.categories,
            settings.labels.column,
            split.time_column or settings.events.time_column,
            split.group_key,
            int(bundle.metadata.get("n_folds", settings.training.folds)),
        )
    keys = bundle.metadata.get("entity_keys") or []
    return fit_baseline(
        dev,
        settings.training,
        bundle.feature_service,
        bundle.features,
        bundle.categories,
        [*bundle.features, *keys],
    )


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
    threshold: float | np.ndarray,
    costs: RowCosts,
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
            labels[mask],
            probabilities[mask],
            threshold[mask] if isinstance(threshold, np.ndarray) else threshold,
            costs[mask],
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
    fitting: dict | None = None  # folds and calibration, from the model's metadata

    @property
    def _is_baseline(self) -> bool:
        return (self.fitting or {}).get("model_kind") == BASELINE_KIND

    def as_dict(self) -> dict:
        gain = _delta(self.model, self.baseline, "roc_auc")
        saving = _delta(self.baseline, self.model, "cost_per_order")
        comparison = {"roc_auc_gain": gain, "cost_saving_per_order": saving}
        return {
            "rows": self.rows,
            "rejected_by_contract": self.rejected,
            "model": self.model,
            "baseline": self.baseline,
            "comparison": comparison | verdict(gain, saving, self._is_baseline),
            "fitting": self.fitting or {},
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
    dev: Development | None = None,
) -> Evaluation:
    """Test-split metrics of ``bundle`` and of the logistic baseline on the same rows."""
    label = settings.labels.column
    test = dev.parts["test"] if dev is not None else None
    if test is None:
        test = prepare(split.test, contract, bundle.features, bundle.categories, label)
    if test.frame.empty:
        raise OntimeError("the feature contract rejected every row of the test split")
    baseline = baseline_for(bundle, split, contract, settings, dev)
    probabilities = bundle.predict_proba(test.frame)
    baseline_probabilities = baseline.predict_proba(test.frame)
    meta = bundle.metadata
    return Evaluation(
        model=summarize(
            test.rows, test.labels, probabilities, row_thresholds(bundle, test.rows), settings
        )
        | {"decision_rule": decision_rule(bundle)},
        baseline=summarize(
            test.rows,
            test.labels,
            baseline_probabilities,
            row_thresholds(baseline, test.rows),
            settings,
        )
        | {"decision_rule": decision_rule(baseline)},
        rows=len(test.rows),
        rejected=test.rejected,
        labels=test.labels,
        model_probabilities=probabilities,
        baseline_probabilities=baseline_probabilities,
        fitting={
            "model_kind": meta.get("model_kind", "xgboost"),
            "folds": meta.get("folds") or [],
            "calibration": meta.get("calibration_choice") or {},
            "rounds": meta.get("best_iteration", -1) + 1 if "best_iteration" in meta else None,
        },
    )
