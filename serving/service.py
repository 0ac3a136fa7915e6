"""Assemble the scoring service from settings: store, models, contract, logs, metrics.

Building opens nothing that must be closed; ``start`` begins the background work (alias
polling, registry refresh, log flushing) and ``stop`` ends it, flushing the logs last.
"""

from __future__ import annotations

import gc
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ontime.errors import ConfigError
from ontime.repo import load_contract
from serving.bounds import Edge
from serving.log_reader import PREDICTION_COLUMNS
from serving.metrics import ServingMetrics
from serving.models import ModelSource, RegistryModelSource
from serving.prediction_log import PredictionLogger
from serving.release import Release
from serving.scorer import Scorer
from serving.store import StoreHandle, open_serving_store

log = logging.getLogger(__name__)


@dataclass
class ScoringService:
    """Everything the HTTP adapter needs, wired together."""

    scorer: Scorer
    release: Release
    stores: StoreHandle
    logger: PredictionLogger
    metrics: ServingMetrics
    request_service: str  # FeatureService whose entity keys make the request model
    entity_types: dict[str, str]
    max_batch_rows: int
    poll_seconds: float
    registry_refresh_seconds: float
    passthrough: list[str] = field(default_factory=list)
    edge: Edge = field(default_factory=Edge)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _running: bool = False

    def start(self) -> None:
        """Open the store, the log and the release poller (once; again after ``stop``)."""
        if self._running:
            return
        self.logger.start()  # first: it refuses a log folder another server is writing
        self._running = True
        self.stores.open()  # on failure a probe keeps retrying; requests get 503 meanwhile
        self.release.start(self.poll_seconds)
        self._stop.clear()
        refresher = threading.Thread(target=self._refresh, name="registry-refresh", daemon=True)
        refresher.start()
        self._threads = [refresher]
        # What exists now (Feast registry, models, imported modules) lives as long as the
        # service; freezing it keeps full GC passes from walking ~300k objects, which costs
        # a 150 ms pause in whichever request triggers one.
        gc.collect()
        gc.freeze()

    def _refresh(self) -> None:
        while not self._stop.wait(self.registry_refresh_seconds):
            self.stores.refresh_registry()

    def stop(self) -> None:
        """Stop background work, then write every journaled log row."""
        if not self._running:
            return
        self._running = False
        self._stop.set()
        self.release.stop()
        for thread in self._threads:
            thread.join(timeout=5)
        self.logger.close()
        self.stores.close()
        gc.unfreeze()

    @property
    def ready(self) -> tuple[bool, list[str]]:
        """Ready when a champion is loaded, the online store answers and the log keeps up.

        Reasons are for clients: they name what is wrong, never a path or an exception
        (the release and the store log those details themselves).
        """
        reasons = []
        if self.release.lineup.champion is None:
            reasons.append("no champion model loaded")
        if not self.stores.up:
            reasons.append(self.stores.down_reason or "online store unavailable")
        problem = self.logger.health().problem
        if problem is not None:
            reasons.append(problem)
        return not reasons, reasons


def build_service(
    settings,
    source: ModelSource | None = None,
    store_opener=None,
) -> ScoringService:
    """Wire the service from ``Settings``; ``source`` and ``store_opener`` are injectable."""
    serving = settings.serving
    opener = store_opener or (
        lambda: open_serving_store(settings.feature_repo, serving.feature_store_yaml)
    )
    release = Release(
        source or RegistryModelSource(settings),
        serving.champion_alias,
        serving.challenger_alias,
        serving.release_mode,
        serving.canary_share,
    )
    release.refresh()
    champion = release.lineup.champion
    request_service = champion.bundle.feature_service if champion else settings.feature_service
    stores = StoreHandle(opener, serving.store_retry_seconds, request_service)
    # The registry (not the online store) says which keys a request carries.
    from serving.lookup import ServiceLookup

    entity_types = ServiceLookup(opener(), request_service).key_types
    metrics = ServingMetrics()
    metrics.registry.register(release.load_failures)  # refused model versions, by alias
    # The log writer runs in its own process: table building off this process's GIL.
    logger = PredictionLogger(
        serving.log_dir,
        serving.log_flush_seconds,
        serving.log_sample_rate,
        durability=serving.log_durability,
        segment_bytes=serving.log_segment_bytes,
        max_lag_seconds=serving.log_max_lag_seconds,
        feast=(
            (Path(settings.feature_repo), serving.feature_store_yaml)
            if serving.feast_logging
            else None
        ),
    )
    contract = load_contract(settings.feature_repo)
    check_passthrough(serving.passthrough, entity_types, contract)
    scorer = Scorer(stores, release, contract, logger, metrics, serving.freshness_sla)
    return ScoringService(
        scorer=scorer,
        release=release,
        stores=stores,
        logger=logger,
        metrics=metrics,
        request_service=request_service,
        entity_types=entity_types,
        max_batch_rows=serving.max_batch_rows,
        poll_seconds=serving.alias_poll_seconds,
        registry_refresh_seconds=serving.registry_refresh_seconds,
        passthrough=list(serving.passthrough),
        edge=Edge.from_settings(serving),
    )


def check_passthrough(names: list[str], entity_types: dict[str, str], contract) -> None:
    """Passthrough fields become log columns: none may take a name the log already uses."""
    taken = {*entity_types, "prediction_time", *PREDICTION_COLUMNS}
    features = {rule.name for rule in contract.rules}
    for name in names:
        if name in taken or name in features or name.endswith(("__status", "__age_s")):
            raise ConfigError(
                f"serving.passthrough: '{name}' is already a request field, feature or "
                "prediction-log column"
            )
