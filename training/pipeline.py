"""``ontime train`` and ``ontime evaluate`` as library functions.

train: snapshot (PIT rows through the FeatureService, data tests, saved once) -> time split
-> calibrated XGBoost, cross-fitted over rolling-origin folds (or, with ``model="baseline"``,
the logistic baseline itself) -> evaluation next to the baseline -> MLflow run + registered
version -> ``challenger`` alias. It never moves ``champion``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ontime.errors import OntimeError
from ontime.features import EVENT_TIMESTAMP
from ontime.repo import describe_service, load_contract, open_store
from ontime.settings import Settings
from training import registry
from training.evaluate import evaluate_bundle, snapshot_split
from training.model import fit_baseline_model, fit_model, model_features
from training.release import mark_challenger
from training.report import write_report
from training.snapshot import Snapshot, build_snapshot, load_snapshot, save_snapshot
from training.split import TimeSplit, split_by_time

log = logging.getLogger(__name__)

MODEL_KINDS = ("xgboost", "baseline")


@dataclass
class TrainResult:
    snapshot: Snapshot  # manifest and folder; its rows are not kept (load_snapshot reads them)
    version: str
    run_id: str
    evaluation: dict
    report_folder: Path
    timings: dict[str, float] = field(default_factory=dict)


def report_folder(settings: Settings, name: str, version: str) -> Path:
    return settings.training.report_dir / name / f"v{version}"


def train(
    settings: Settings,
    cutoff: datetime | None = None,
    without: Sequence[str] = (),
    on_stage=None,
    model: str = "xgboost",
) -> TrainResult:
    """Train one candidate; ``on_stage(name, seconds)`` is told how long each stage took.

    ``model="baseline"`` registers the logistic baseline itself: a servable, gated model
    for a world where the XGBoost candidate does not beat it.
    """
    from training.tracking import log_training_run

    if model not in MODEL_KINDS:
        raise OntimeError(f"unknown model '{model}'; choose one of {list(MODEL_KINDS)}")

    timings: dict[str, float] = {}

    def done(stage: str, started: float) -> float:
        timings[stage] = time.perf_counter() - started
        if on_stage:
            on_stage(stage, timings[stage])
        return time.perf_counter()

    started = time.perf_counter()
    store = open_store(settings.feature_repo, settings.profile)
    spec = describe_service(store, settings.feature_service)
    contract = load_contract(settings.feature_repo)
    features = model_features(spec.features, without)  # fail fast on a bad --without
    snapshot = save_snapshot(
        settings, build_snapshot(settings, store, spec, contract, cutoff), store
    )
    started = done("snapshot", started)

    shares = settings.training.split
    segment_costs = settings.training.segment_costs
    split = split_by_time(
        snapshot.rows, EVENT_TIMESTAMP, settings.labels.join_key, shares.train, shares.validation
    )
    snapshot = snapshot.without_rows()  # the split holds the rows now, in split order
    metadata = {
        "snapshot_id": snapshot.id,
        "snapshot_hash": snapshot.manifest.content_hash,
        "cutoff": snapshot.manifest.cutoff,
        "label": settings.labels.column,
        "entity_keys": list(spec.entity_keys),
        "service_features": list(spec.features),
        "without": list(without),
        "split": {"train": shares.train, "validation": shares.validation},
        "train_end": split.boundaries[0].isoformat(),
        "validation_end": split.boundaries[1].isoformat(),
        "split_rows": split.sizes(),
        "costs": settings.training.costs.model_dump(),
        "segment_costs": segment_costs.model_dump(mode="json") if segment_costs else None,
        "n_folds": settings.training.folds,
        "trained_at": datetime.now(tz=UTC).isoformat(),
    }
    fit = fit_baseline_model if model == "baseline" else fit_model
    fitted = fit(
        split,
        contract,
        spec.name,
        features,
        settings.labels.column,
        EVENT_TIMESTAMP,
        settings.training,
        metadata,
        group_key=settings.labels.join_key,
        entity_keys=spec.entity_keys,
    )
    started = done("fit", started)

    evaluation = evaluate_bundle(fitted.bundle, split, contract, settings, dev=fitted.dev)
    document = evaluation.as_dict()
    # Stored with the model so monitoring can compare live quality without recomputing.
    fitted.bundle.metadata["test_metrics"] = evaluation.model["metrics"]
    started = done("evaluate", started)

    name = registry.registered_name(settings)
    params = {
        **settings.training.model.model_dump(),
        "model_kind": fitted.bundle.metadata.get("model_kind", "xgboost"),
        "folds": settings.training.folds,
        "calibration": fitted.bundle.metadata["calibration_choice"]["chosen"],
        "best_iteration": fitted.best_iteration,
        "threshold": fitted.bundle.threshold,
        "segment_thresholds": fitted.bundle.metadata.get("segment_thresholds") or "-",
        "cutoff": snapshot.manifest.cutoff,
        "without": ",".join(without) or "-",
        "label_wait": str(settings.training.label_wait),
        "rejected_by_contract": {k: v.rejected for k, v in fitted.parts.items()},
        **{f"rows_{k}": v for k, v in split.sizes().items()},
        **{f"cost_{k}": v for k, v in settings.training.costs.model_dump().items()},
    }

    def write(version: str) -> Path:
        header = {
            "model_name": name,
            "model_version": version,
            "snapshot_id": snapshot.id,
            "snapshot_hash": snapshot.manifest.content_hash,
            "feature_service": spec.name,
            "features": ",".join(features),
        }
        return write_report(
            report_folder(settings, name, version),
            evaluation,
            header,
            settings.training.risk_buckets,
        )

    version, run_id = log_training_run(
        settings,
        spec=spec,
        snapshot=snapshot,
        bundle=fitted.bundle,
        evaluation=document,
        params=params,
        write_report=write,
    )
    mark_challenger(settings, version, reason=f"trained on {snapshot.id}")
    done("register", started)
    return TrainResult(
        snapshot, version, run_id, document, report_folder(settings, name, version), timings
    )


def version_split(
    settings: Settings, ref: str | None
) -> tuple[str, registry.LoadedModel, Snapshot, TimeSplit]:
    """A registered version, verified, with its own (hash-verified) snapshot and split."""
    version = registry.resolve_version(settings, ref)
    loaded = registry.load_version(settings, version)
    meta = loaded.bundle.metadata
    snapshot = load_snapshot(settings, meta["snapshot_id"], meta.get("snapshot_hash"))
    return version, loaded, snapshot, snapshot_split(snapshot, meta, settings)


def evaluate_version(
    settings: Settings, ref: str | None
) -> tuple[registry.LoadedModel, dict, Path]:
    """Re-evaluate a registered version on its own (hash-verified) snapshot's test split."""
    version, loaded, snapshot, split = version_split(settings, ref)
    contract = load_contract(settings.feature_repo)
    evaluation = evaluate_bundle(loaded.bundle, split, contract, settings)
    header = {
        "model_name": loaded.name,
        "model_version": version,
        "run_id": loaded.run_id,
        "snapshot_id": snapshot.id,
        "snapshot_hash": snapshot.manifest.content_hash,
        "feature_service": loaded.bundle.feature_service,
        "features": ",".join(loaded.bundle.features),
    }
    folder = write_report(
        report_folder(settings, loaded.name, version),
        evaluation,
        header,
        settings.training.risk_buckets,
    )
    return loaded, {**header, **evaluation.as_dict()}, folder
