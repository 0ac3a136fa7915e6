"""A released model's lineage: the one thing training tells monitoring about a model.

Training records with each registered version its snapshot id and test metrics (bundle
metadata), and every alias move in the audit trail. This module reads those records and
answers in plain values, so monitoring never touches the registry, the audit trail,
snapshots or bundles itself. Validation scores, and test metrics an older bundle lacks, are
recomputed from the model's immutable snapshot with the model itself.

Monitoring's profile of a released model (its statistics on clean reference windows) is
built from the model's *reference period*, the rows of its snapshot it was not trained on,
scored by the model (``reference_period``), and kept with the released model
(``ProfileFiles``), so the thresholds belong to the artifact they judge.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ontime.errors import OntimeError
from ontime.timeutil import as_utc, utc_timestamp
from training import kept_reference

if TYPE_CHECKING:
    from ontime.settings import Settings
    from training.frames import Prepared
    from training.registry import LoadedModel
    from training.snapshot import Snapshot

log = logging.getLogger(__name__)


# Columns of a reference period (``reference_period``) besides the snapshot's own.
PERIOD_TIME, PERIOD_SCORE, PERIOD_THRESHOLD, PERIOD_LABEL = (
    "prediction_time",
    "probability",
    "threshold",
    "_label",
)
STATUS_SUFFIX = "__status"
# The snapshot's parts a model was not trained on: its clean reference period.
PERIOD_PARTS = ("validation", "test")
PROFILE_FOLDER = "monitoring_profiles"


@dataclass(frozen=True)
class Release:
    """When an alias last moved to a version, and the version it held before."""

    promoted_at: datetime | None
    previous_version: str | None


@dataclass(frozen=True)
class ModelLineage:
    """A registered model version with the data and results it was released on.

    ``reference_rows`` are its training snapshot's rows (raw features, ``<feature>__age_s``
    when recorded); ``validation_scores`` its probabilities on the validation window;
    ``test_metrics`` the numeric test metrics at its threshold (``training.metrics``).
    The release fields are set when the model was reached through an alias;
    ``previous_test_metrics`` only when asked for (see ``champion_lineage``).
    """

    name: str
    version: str
    reference_rows: pd.DataFrame
    validation_scores: np.ndarray
    test_metrics: dict[str, float]
    promoted_at: datetime | None = None
    previous_version: str | None = None
    previous_test_metrics: dict[str, float] | None = None
    # The reference period, computed only when asked (it scores the snapshot's rows).
    period: Callable[[], pd.DataFrame] | None = None
    profiles: ProfileFiles | None = None


class ProfileFiles:
    """A model version's monitoring profiles, as JSON files next to the registry's artifacts:
    ``<artifact_dir>/monitoring_profiles/<model>/v<version>/<name>.json``."""

    def __init__(self, settings: Settings, name: str, version: str) -> None:
        root = Path(settings.training.registry.artifact_dir) / PROFILE_FOLDER
        self.folder = root / name / f"v{version}"

    def load(self, name: str) -> dict | None:
        """The stored profile ``name``; None when there is none or it cannot be read."""
        path = self.folder / f"{name}.json"
        try:
            return json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("monitoring profile %s is unreadable (%s); it will be rebuilt", path, exc)
            return None

    def save(self, name: str, profile: dict) -> Path:
        """Store a profile (written whole, then renamed, so readers never see half a file)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{name}.json"
        partial = path.with_suffix(".json.partial")
        partial.write_text(json.dumps(profile))
        partial.replace(path)
        return path


def champion_lineage(
    settings: Settings, alias: str, window_end: datetime, rollback_window: timedelta
) -> ModelLineage | None:
    """The lineage of the version ``alias`` points at; None when the alias is not set.

    The previous version's test metrics are downloaded only when the release lies within
    ``rollback_window`` before ``window_end``: only then can a regression be the release's.
    """
    from training.registry import load_alias  # MLflow and XGBoost load only when asked

    loaded = load_alias(settings, alias)
    if loaded is None:
        return None
    release = release_of(settings, loaded.name, loaded.version, alias)
    lineage = replace(
        model_lineage(settings, loaded),
        promoted_at=release.promoted_at,
        previous_version=release.previous_version,
    )
    since, end = release.promoted_at, as_utc(window_end)
    if release.previous_version and since and since <= end <= since + rollback_window:
        previous = stored_test_metrics(settings, release.previous_version)
        lineage = replace(lineage, previous_test_metrics=previous)
    return lineage


def model_lineage(settings: Settings, loaded: LoadedModel) -> ModelLineage:
    """Reference rows, validation scores and test metrics of a loaded registered version."""

    meta = loaded.bundle.metadata
    snapshot_id = meta.get("snapshot_id")
    if not snapshot_id:
        raise OntimeError(
            f"model {loaded.name} v{loaded.version} does not record its snapshot_id: "
            "its reference data cannot be found"
        )
    profiles = ProfileFiles(settings, loaded.name, str(loaded.version))
    kept = kept_reference.load(settings, loaded, profiles.folder)
    snapshot = None if kept is not None else verified_snapshot(settings, loaded)
    test_metrics = meta.get("test_metrics")
    if test_metrics is None:  # older bundles: recomputed from the snapshot
        from training.metrics import binary_metrics

        snapshot = snapshot or verified_snapshot(settings, loaded)
        [test] = _prepared(settings, loaded, snapshot, ("test",))
        test_metrics = binary_metrics(
            test.labels, loaded.bundle.predict_proba(test.frame), loaded.bundle.threshold,
            settings.training.costs,
        )  # fmt: skip
    if kept is None:
        [validation] = _prepared(settings, loaded, snapshot, ("validation",))
        monitoring = settings.monitoring
        kept = kept_reference.KeptReference(
            kept_reference.sample_rows(snapshot.rows, monitoring.reference_rows, monitoring.seed),
            np.asarray(loaded.bundle.predict_proba(validation.frame), dtype="float64"),
        )
        kept_reference.keep(settings, loaded, profiles.folder, kept)
    return ModelLineage(
        name=loaded.name,
        version=str(loaded.version),
        reference_rows=kept.rows,
        validation_scores=kept.validation_scores,
        test_metrics=_numbers(test_metrics),
        period=lambda: reference_period(settings, loaded, snapshot),
        profiles=profiles,
    )


def verified_snapshot(settings: Settings, loaded: LoadedModel) -> Snapshot:
    """The model's snapshot, held against the hash the model recorded at training: a
    snapshot edited since, even with a recomputed manifest, is refused."""
    from training.snapshot import load_snapshot

    meta = loaded.bundle.metadata
    return load_snapshot(
        settings, meta["snapshot_id"], meta.get("snapshot_hash"),
        recorded_by=f"model {loaded.name} v{loaded.version}",
    )  # fmt: skip


def reference_period(
    settings: Settings, loaded: LoadedModel, snapshot: Snapshot | None = None
) -> pd.DataFrame:
    """The model's validation and test rows as serving would have logged them.

    Raw features and entity keys as in the snapshot, plus ``<feature>__status`` from the
    contract with the model's categories, ``<feature>__age_s`` dated as serving dates it
    (``ontime.feature_ages``; left out where the offline store cannot be dated),
    ``prediction_time``, the model's ``probability`` and row ``threshold``, and the outcome
    as ``_label``. Rows the contract rejects are left out, as serving would have refused
    them.
    """
    from ontime.contract import apply_contract
    from ontime.repo import load_contract
    from training.evaluate import row_thresholds, snapshot_split
    from training.snapshot import load_snapshot

    bundle = loaded.bundle
    if snapshot is None:
        meta = bundle.metadata
        snapshot = load_snapshot(settings, meta["snapshot_id"], meta.get("snapshot_hash"))
    split = snapshot_split(snapshot, bundle.metadata, settings)
    contract = load_contract(settings.feature_repo)
    manifest = snapshot.manifest
    parts = []
    for name in PERIOD_PARTS:
        rows = split.part(name)
        result = apply_contract(rows, contract, bundle.features, bundle.categories)
        accepted = result.accepted.to_numpy()
        part = rows.loc[accepted].reset_index(drop=True)
        statuses = result.statuses.loc[accepted].reset_index(drop=True)
        for feature in bundle.features:
            part[feature + STATUS_SUFFIX] = statuses[feature].to_numpy()
        part[PERIOD_SCORE] = bundle.predict_proba(result.frame.loc[accepted])
        part[PERIOD_THRESHOLD] = row_thresholds(bundle, part)
        part[PERIOD_LABEL] = part[manifest.label].to_numpy()
        part[PERIOD_TIME] = pd.to_datetime(part[manifest.time_column], utc=True)
        parts.append(part)
    period = pd.concat(parts, ignore_index=True)
    return _with_ages(settings, bundle.feature_service, period)


def _with_ages(settings: Settings, service: str, period: pd.DataFrame) -> pd.DataFrame:
    """``period`` with the age of every feature value, when the store can date them."""
    from ontime.feature_ages import AGE_SUFFIX, feature_ages
    from ontime.repo import describe_service, open_store

    store = open_store(settings.feature_repo, settings.profile)
    spec = describe_service(store, service)
    if period.empty or any(key not in period.columns for key in spec.entity_keys):
        return period
    ages = feature_ages(store, spec, period[list(spec.entity_keys)], period[PERIOD_TIME])
    for feature, values in (ages or {}).items():
        period[feature + AGE_SUFFIX] = values
    return period


def release_of(settings: Settings, name: str, version: str, alias: str) -> Release:
    """When ``alias`` last moved to ``version`` of model ``name``, and what it replaced."""
    from training import audit, release_store

    entries = release_store.read_history(settings, model=name)
    moves = [e for e in entries if e.get("alias") == alias and str(e.get("to")) == str(version)]
    if not moves:
        return Release(promoted_at=None, previous_version=None)
    stack = audit.alias_stack(entries, alias)
    # The version below the top is the one a rollback would return to.
    previous = stack[-2] if len(stack) >= 2 and stack[-1] == str(version) else None
    return Release(utc_timestamp(moves[-1]["at"]).to_pydatetime(), previous)


def stored_test_metrics(settings: Settings, version: str) -> dict[str, float] | None:
    """A version's recorded test metrics, read from its bundle metadata file alone.

    Only the small JSON file is downloaded: loading the whole version would also load its
    booster, which monitoring never scores with.
    """
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


def _prepared(
    settings: Settings, loaded: LoadedModel, snapshot: Snapshot, parts: tuple[str, ...]
) -> list[Prepared]:
    """Model rows of the snapshot's ``parts``, split and prepared as the model was trained.

    Used when the metadata lacks what monitoring needs (validation scores are not stored).
    """
    from ontime.repo import load_contract
    from training.evaluate import snapshot_split
    from training.frames import prepare

    bundle = loaded.bundle
    log.debug("model %s v%s: scoring its snapshot", loaded.name, loaded.version)
    split = snapshot_split(snapshot, bundle.metadata, settings)
    contract = load_contract(settings.feature_repo)
    label = snapshot.manifest.label
    return [
        prepare(split.part(name), contract, bundle.features, bundle.categories, label)
        for name in parts
    ]


def _numbers(metrics: dict) -> dict[str, float]:
    """The numeric entries only: metrics undefined on a split are recorded as null."""
    return {k: float(v) for k, v in metrics.items() if isinstance(v, int | float)}
