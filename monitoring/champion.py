"""The champion's baseline, read from the model registry, its snapshot and the audit trail.

Training stores with each model its snapshot id and test metrics; the audit trail records
when the champion alias moved and from which version. Validation scores are recomputed from
the immutable snapshot with the model itself when the metadata does not carry them.
"""

from __future__ import annotations

import json
import logging
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from monitoring.baseline import Baseline
from ontime.errors import OntimeError

log = logging.getLogger(__name__)


def load_baseline(settings, window_end: datetime) -> Baseline:
    """The baseline of the model the champion alias points at."""
    from training.registry import load_alias

    champion = load_alias(settings, settings.serving.champion_alias)
    if champion is None:
        raise OntimeError(
            f"no model has the alias '{settings.serving.champion_alias}': nothing to monitor "
            "against; run `ontime train` and promote a model"
        )
    promoted_at, previous = _release(settings, champion.name, champion.version)
    baseline = baseline_from_model(settings, champion)
    baseline.promoted_at = promoted_at
    window = timedelta(days=settings.monitoring.labels.rollback_window_days)
    # The previous model's metrics only matter for a release recent at the window's end.
    if previous and promoted_at and promoted_at <= window_end <= promoted_at + window:
        baseline.previous_test_metrics = _test_metrics_of(settings, previous)
    return baseline


def baseline_from_model(settings, loaded) -> Baseline:
    """Reference rows, validation scores and test metrics of a registered model."""
    from ontime.repo import load_contract
    from training.snapshot import load_snapshot

    bundle, meta = loaded.bundle, loaded.bundle.metadata
    snapshot_id = meta.get("snapshot_id")
    if not snapshot_id:
        raise OntimeError(
            f"model {loaded.name} v{loaded.version} does not record its snapshot_id: "
            "monitoring cannot find its reference data"
        )
    snapshot = load_snapshot(settings, snapshot_id)
    scores, test_metrics = meta.get("validation_scores"), meta.get("test_metrics")
    if scores is None or test_metrics is None:
        from training.evaluate import snapshot_split
        from training.frames import prepare
        from training.metrics import binary_metrics

        split = snapshot_split(snapshot, meta, settings)
        contract = load_contract(settings.feature_repo)
        label = snapshot.manifest.label
        parts = {
            name: prepare(split.part(name), contract, bundle.features, bundle.categories, label)
            for name in ("validation", "test")
        }
        if scores is None:
            scores = bundle.predict_proba(parts["validation"].frame)
        if test_metrics is None:
            test = parts["test"]
            test_metrics = binary_metrics(
                test.labels, bundle.predict_proba(test.frame), bundle.threshold,
                settings.training.costs,
            )  # fmt: skip
    return Baseline(
        model_name=loaded.name,
        model_version=str(loaded.version),
        reference=snapshot.rows,
        validation_scores=np.asarray(scores, dtype="float64"),
        test_metrics=_numbers(test_metrics),
    )


def _release(settings, name: str, version: str) -> tuple[datetime | None, str | None]:
    """When the champion alias last moved to ``version``, and the version it replaced."""
    from training import audit

    entries = audit.read(settings.training.registry.audit_log, model=name)
    alias = settings.serving.champion_alias
    moves = [e for e in entries if e.get("alias") == alias and str(e.get("to")) == str(version)]
    if not moves:
        return None, None
    stack = audit.alias_stack(entries, alias)
    previous = stack[-2] if len(stack) >= 2 and stack[-1] == str(version) else None
    return pd.Timestamp(moves[-1]["at"]).to_pydatetime(), previous


def _test_metrics_of(settings, version: str) -> dict[str, float] | None:
    """A version's stored test metrics, read from its bundle metadata (no booster load)."""
    from training import registry
    from training.bundle import META_FILE

    client = registry.client(settings)
    if client is None:
        return None
    run_id = client.get_model_version(registry.registered_name(settings), version).run_id
    with tempfile.TemporaryDirectory(prefix="ontime-meta-") as folder:
        path = client.download_artifacts(run_id, f"{registry.BUNDLE_ARTIFACT}/{META_FILE}", folder)
        metrics = json.loads(Path(path).read_text()).get("metadata", {}).get("test_metrics")
    return _numbers(metrics) if metrics else None


def _numbers(metrics: dict) -> dict[str, float]:
    return {k: float(v) for k, v in metrics.items() if isinstance(v, int | float)}
