"""Immutable point-in-time training snapshots: parquet rows + a manifest with a content hash.

The hash is taken over the canonical *content* (rows sorted by entity keys and prediction
time, column names and dtypes), not the parquet bytes, so the same inputs always give the
same hash and any later edit of the rows is caught when the snapshot is loaded.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from ontime.errors import OntimeError
from ontime.features import EVENT_TIMESTAMP, entity_frame, historical_rows
from ontime.repo import ServiceSpec
from ontime.settings import Settings
from training.datatests import run_snapshot_tests
from training.labels import labelled_events

log = logging.getLogger(__name__)

ROWS_FILE = "rows.parquet"
MANIFEST_FILE = "manifest.json"


@dataclass
class Manifest:
    """Everything needed to trust and reuse a snapshot later."""

    id: str
    content_hash: str
    feature_service: str
    features: list[str]
    feature_refs: list[str]
    entity_keys: list[str]
    time_column: str
    label: str
    label_join_key: str
    extra_columns: list[str]
    cutoff: str
    rows: int
    positives: int
    counts: dict[str, int]
    min_time: str
    max_time: str
    created_at: str
    retrieval_seconds: float
    feast_saved_dataset: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class Snapshot:
    manifest: Manifest
    rows: pd.DataFrame
    folder: Path | None = None

    @property
    def id(self) -> str:
        return self.manifest.id

    def without_rows(self) -> Snapshot:
        """The manifest and folder, with an empty frame of the same columns as rows, so
        a caller done with the rows does not keep them alive (``load_snapshot`` reads them
        back)."""
        return Snapshot(manifest=self.manifest, rows=self.rows.iloc[:0].copy(), folder=self.folder)


def canonical(rows: pd.DataFrame, sort_by: list[str]) -> pd.DataFrame:
    """Rows in a stable order with columns sorted by name: the form that is hashed and saved."""
    ordered = rows.sort_values(sort_by, kind="mergesort").reset_index(drop=True)
    return ordered[sorted(ordered.columns)]


def content_hash(rows: pd.DataFrame, sort_by: list[str]) -> str:
    """SHA-256 over column names, dtypes and per-row hashes of the canonical rows."""
    return canonical_hash(canonical(rows, sort_by))


def canonical_hash(ordered: pd.DataFrame) -> str:
    """``content_hash`` of rows already in canonical form (no second sorted copy)."""
    digest = hashlib.sha256()
    schema = [[name, str(dtype)] for name, dtype in ordered.dtypes.items()]
    digest.update(json.dumps(schema).encode())
    digest.update(pd.util.hash_pandas_object(ordered, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def build_snapshot(
    settings: Settings, store, spec: ServiceSpec, contract, cutoff: datetime | None = None
) -> Snapshot:
    """Labelled events -> Feast point-in-time rows through the FeatureService -> data tests."""
    labelled = labelled_events(settings, cutoff)
    events, label = labelled.events, settings.labels.column
    entities = entity_frame(events, spec, settings.events.time_column, contract.request_time_field)
    started = time.perf_counter()
    features = historical_rows(store, spec, entities)
    seconds = time.perf_counter() - started
    taken = {*spec.entity_keys, EVENT_TIMESTAMP, *spec.features, label}
    # The label's join key is kept (the split groups by it), and so are segment columns
    # that only the events table has.
    wanted = [settings.labels.join_key, *settings.training.segments]
    extra = list(dict.fromkeys(c for c in wanted if c in events.columns and c not in taken))
    clash = [c for c in (label, *extra) if c in spec.features]
    if clash:
        raise OntimeError(f"column(s) {clash} are both features of '{spec.name}' and event data")
    rows = features[[*spec.entity_keys, EVENT_TIMESTAMP, *spec.features]].copy()
    rows[EVENT_TIMESTAMP] = rows[EVENT_TIMESTAMP].astype("datetime64[us, UTC]")
    # historical_rows keeps the entity frame's row order, so event columns align by position.
    for column in (label, *extra):
        rows[column] = events[column].to_numpy()
    run_snapshot_tests(
        rows,
        store=store,
        service=spec.name,
        features=spec.features,
        entity_keys=spec.entity_keys,
        time_column=EVENT_TIMESTAMP,
        label=label,
        future_only=contract.future_only_fields,
    )
    sort_by = [*spec.entity_keys, EVENT_TIMESTAMP]
    rows = canonical(rows, sort_by)
    digest = canonical_hash(rows)
    stamp = labelled.cutoff.astimezone(UTC)
    manifest = Manifest(
        id=f"{spec.name}-{stamp:%Y%m%dT%H%M%SZ}-{digest[:12]}",
        content_hash=digest,
        feature_service=spec.name,
        features=list(spec.features),
        feature_refs=list(spec.feature_refs),
        entity_keys=list(spec.entity_keys),
        time_column=EVENT_TIMESTAMP,
        label=label,
        label_join_key=settings.labels.join_key,
        extra_columns=extra,
        cutoff=stamp.isoformat(),
        rows=len(rows),
        positives=int(rows[label].sum()),
        counts=labelled.counts,
        min_time=rows[EVENT_TIMESTAMP].min().isoformat(),
        max_time=rows[EVENT_TIMESTAMP].max().isoformat(),
        created_at=datetime.now(tz=UTC).isoformat(),
        retrieval_seconds=round(seconds, 3),
    )
    return Snapshot(manifest=manifest, rows=rows)


def save_snapshot(settings: Settings, snapshot: Snapshot, store=None) -> Snapshot:
    """Write the snapshot once; a snapshot with the same id already on disk is reused.

    The folder is written under a temporary name and renamed, so a crash never leaves a
    half-written snapshot behind; files are made read-only as a reminder of immutability.
    """
    root = settings.training.snapshot_dir
    folder = root / snapshot.id
    if folder.exists():
        existing = load_snapshot(settings, snapshot.id)  # verifies the stored hash
        if existing.manifest.content_hash != snapshot.manifest.content_hash:
            raise OntimeError(f"snapshot {snapshot.id} exists with different content")
        log.info("snapshot %s already exists; reusing it", snapshot.id)
        return existing
    staging = root / f".tmp-{snapshot.id}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    snapshot.rows.to_parquet(staging / ROWS_FILE, index=False)
    manifest = snapshot.manifest
    if settings.training.register_saved_dataset and store is not None:
        manifest.feast_saved_dataset = register_saved_dataset(store, snapshot, folder / ROWS_FILE)
        if manifest.feast_saved_dataset is None:
            manifest.notes.append("not registered as a Feast saved dataset (see log)")
    (staging / MANIFEST_FILE).write_text(json.dumps(asdict(manifest), indent=2))
    for path in staging.iterdir():
        path.chmod(0o444)
    try:
        staging.rename(folder)
    except OSError:
        if not folder.exists():
            raise
        # Another run wrote the same snapshot meanwhile: same id means same content.
        shutil.rmtree(staging, ignore_errors=True)
        return load_snapshot(settings, snapshot.id)
    log.info("wrote snapshot %s (%s rows) to %s", snapshot.id, manifest.rows, folder)
    return Snapshot(manifest=manifest, rows=snapshot.rows, folder=folder)


def register_saved_dataset(store, snapshot: Snapshot, path: Path) -> str | None:
    """Record the snapshot in the Feast registry as a saved dataset pointing at our parquet.

    ``store.create_saved_dataset`` would re-run the retrieval and, on the DuckDB store,
    persist the query *before* on-demand features are computed, so the metadata is written
    directly instead; ``store.get_saved_dataset(id).to_df()`` then reads our rows back.
    """
    from feast.infra.offline_stores.file_source import SavedDatasetFileStorage
    from feast.saved_dataset import SavedDataset

    manifest = snapshot.manifest
    try:
        dataset = SavedDataset(
            name=manifest.id,
            features=manifest.feature_refs,
            join_keys=manifest.entity_keys,
            storage=SavedDatasetFileStorage(path=str(path)),
            tags={"content_hash": manifest.content_hash, "cutoff": manifest.cutoff},
            feature_service_name=manifest.feature_service,
        )
        dataset.min_event_timestamp = pd.Timestamp(manifest.min_time).to_pydatetime()
        dataset.max_event_timestamp = pd.Timestamp(manifest.max_time).to_pydatetime()
        store.registry.apply_saved_dataset(dataset, store.project, commit=True)
    except Exception as exc:  # the registry is an index; the snapshot stands without it
        log.warning("could not register Feast saved dataset %s: %s", manifest.id, exc)
        return None
    return manifest.id


def load_snapshot(
    settings: Settings,
    snapshot_id: str,
    expected_hash: str | None = None,
    recorded_by: str = "the model",
) -> Snapshot:
    """Read a snapshot and refuse it if its rows no longer match the recorded hash.

    ``expected_hash`` is the hash a model recorded when it was trained: the rows are held
    against it too, since a manifest can be rewritten along with the rows.
    """
    folder = settings.training.snapshot_dir / snapshot_id
    if not (folder / MANIFEST_FILE).exists():
        raise OntimeError(f"snapshot '{snapshot_id}' not found under {folder.parent}")
    try:
        manifest = Manifest(**json.loads((folder / MANIFEST_FILE).read_text()))
    except (ValueError, TypeError) as exc:
        raise OntimeError(f"snapshot '{snapshot_id}' has an unreadable manifest: {exc}") from None
    try:
        rows = pd.read_parquet(folder / ROWS_FILE)
    except Exception as exc:
        raise OntimeError(f"snapshot '{snapshot_id}' rows are unreadable: {exc}") from None
    actual = content_hash(rows, [*manifest.entity_keys, manifest.time_column])
    if actual != manifest.content_hash:
        raise OntimeError(
            f"snapshot '{snapshot_id}' was modified: content hash {actual[:12]} does not "
            f"match the manifest's {manifest.content_hash[:12]}"
        )
    if expected_hash is not None and actual != expected_hash:
        raise OntimeError(
            f"snapshot '{snapshot_id}' was modified: content hash {actual[:12]} does not "
            f"match the {expected_hash[:12]} that {recorded_by} was trained on"
        )
    return Snapshot(manifest=manifest, rows=rows, folder=folder)
