"""The framework-free scorer: online features -> freshness -> feature contract -> model.

Built from its dependencies (store handle, release, contract, logger, metrics); it knows
nothing about HTTP. A batch costs one online lookup per FeatureService, and the feature
rules are applied by the same contract code training uses (``apply_contract_arrays``),
with the bundle's categories.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime

import numpy as np

from ontime.contract import FeatureContract, apply_contract_arrays
from ontime.repo import freshness_slas
from serving.answers import prediction, rejection
from serving.freshness import (
    allowed_ages,
    blank,
    feature_ages,
    future_masks,
    mark_future,
    stale_masks,
)
from serving.lookup import ServiceLookup
from serving.metrics import ServingMetrics
from serving.models import ServedModel
from serving.outcome import (
    INTERNAL,
    LOG_UNAVAILABLE,
    STORE_UNAVAILABLE,
    RowOutcome,
    ScoringError,
)
from serving.prediction_log import LogUnavailable
from serving.records import ScoredRows, ServedBatch
from serving.release import CANARY, CHAMPION, SHADOW, Release, canary_mask
from serving.store import StoreHandle, StoreUnavailable

log = logging.getLogger(__name__)


class Scorer:
    """Scores batches of entity rows with the current lineup; logs what it served."""

    def __init__(
        self,
        stores: StoreHandle,
        release: Release,
        contract: FeatureContract,
        logger=None,
        metrics: ServingMetrics | None = None,
        freshness_sla: dict[str, str] | None = None,
    ) -> None:
        self.stores = stores
        self.release = release
        self.contract = contract
        self.logger = logger
        self.metrics = metrics
        self.freshness_sla = freshness_sla or {}
        self._limits: dict[tuple[str, tuple[str, ...]], dict[str, float]] = {}
        self._views: dict[str, tuple[dict[str, str], dict[str, float]]] = {}

    def score(
        self,
        keys: dict[str, list],
        prediction_epoch_s: np.ndarray,
        extra: dict | None = None,
        *,
        request_ids: list[str] | None = None,
        passthrough: dict[str, list] | None = None,
    ) -> list[RowOutcome]:
        """Score rows given column-wise (entity key -> values) at their prediction times.

        ``request_ids`` name the rows (new ids when omitted); ``passthrough`` columns are
        logged beside them. Raises ScoringError for what fails the whole batch (no model,
        store down, log unavailable); a row the contract rejects or whose entity is unknown
        gets its own error outcome. Returns only once the served rows are durably logged.
        """
        started = time.perf_counter()
        lineup = self.release.lineup
        champion = lineup.champion
        if champion is None:
            raise ScoringError(INTERNAL, "no champion model is loaded", status=503)
        n = len(prediction_epoch_s)
        canary = np.zeros(n, dtype=bool)
        challenger = lineup.challenger if lineup.mode != "off" else None
        runs: list[tuple[ServedModel, str, np.ndarray]] = []
        if challenger is not None and lineup.mode == "canary":
            canary = canary_mask([keys[k] for k in keys], lineup.canary_share)
            runs.append((challenger, CANARY, np.flatnonzero(canary)))
        runs.insert(0, (champion, CHAMPION, np.flatnonzero(~canary)))
        if challenger is not None and lineup.mode == "shadow":
            runs.append((challenger, SHADOW, np.arange(n)))

        served_at = datetime.now(UTC)
        request_ids = request_ids or [uuid.uuid4().hex for _ in range(n)]
        outcomes: list[RowOutcome | None] = [None] * n
        batches: dict[str, ServedBatch] = {}
        for model, role, rows in runs:
            if not len(rows):
                continue
            try:
                batch = batches.get(model.bundle.feature_service)
                if batch is None:
                    batch = self._lookup(model, keys, prediction_epoch_s, extra, served_at)
                    batch.request_ids = request_ids
                    batch.passthrough = passthrough or {}
                    batches[model.bundle.feature_service] = batch
                self._run(model, role, rows, batch, outcomes)
            except Exception as exc:
                if role == SHADOW:  # a shadow must never change or fail the answer
                    log.warning("shadow %s v%s skipped: %s", model.name, model.version, exc)
                    continue
                if isinstance(exc, ScoringError):
                    self._count_error(exc.kind)
                raise
        latency_ms = (time.perf_counter() - started) * 1000.0
        self._record(batches, outcomes, latency_ms, request_ids)
        return [o if o is not None else _internal_outcome() for o in outcomes]

    def _lookup(
        self,
        model: ServedModel,
        keys: dict[str, list],
        prediction_epoch_s: np.ndarray,
        extra: dict | None,
        served_at: datetime,
    ) -> ServedBatch:
        service = model.bundle.feature_service
        try:
            store, lookup = self.stores.lookup(service)
        except StoreUnavailable as exc:
            raise ScoringError(STORE_UNAVAILABLE, str(exc)) from None
        entities = self._entity_columns(lookup, keys, prediction_epoch_s, extra or {})
        try:
            online = lookup.fetch(store, entities)
        except Exception as exc:  # the store failed mid-request: fail closed, recover later
            raise ScoringError(STORE_UNAVAILABLE, self.stores.mark_down(exc)) from None
        categorical = frozenset(
            f for f in lookup.spec.features if self.contract.rule(f).kind == "categorical"
        )
        return ServedBatch(
            served_at=served_at,
            feature_service=service,
            request_ids=[],
            prediction_epoch_s=prediction_epoch_s,
            keys={k: keys[k] for k in lookup.spec.entity_keys},
            online=online,
            ages=feature_ages(prediction_epoch_s, online.event_epoch_s),
            future=future_masks(prediction_epoch_s, online.newest_epoch_s),
            categorical=categorical,
        )

    def _entity_columns(
        self, lookup: ServiceLookup, keys: dict, epoch_s: np.ndarray, extra: dict
    ) -> dict[str, list]:
        spec = lookup.spec
        absent = [k for k in spec.entity_keys if k not in keys]
        if absent:
            raise ScoringError(INTERNAL, f"'{spec.name}' needs entity key(s) {absent}", status=503)
        entities = {k: keys[k] for k in spec.entity_keys}
        for field in spec.request_fields:
            if field == self.contract.request_time_field:
                entities[field] = epoch_s.tolist()
            elif field in extra:
                entities[field] = extra[field]
            else:
                raise ScoringError(INTERNAL, f"'{spec.name}' needs request field '{field}'", 503)
        return entities

    def _run(
        self,
        model: ServedModel,
        role: str,
        rows: np.ndarray,
        batch: ServedBatch,
        outcomes: list,
    ) -> None:
        bundle = model.bundle
        features = list(bundle.features)
        online = batch.online
        every_row = len(rows) == len(batch.prediction_epoch_s)  # rows are sorted and unique
        # Plain numpy columns, no DataFrame: for one row, pandas plumbing costs more than
        # the contract's rules and the model together.
        raw = {f: _column(online.values[f] if every_row else _take(online.values[f], rows))
               for f in features}  # fmt: skip
        ages = {f: batch.ages[f][rows] for f in features}
        # A value from after the prediction time never reaches the model: blanked, the
        # rule's missing policy decides, and it is reported as ``future``.
        future = {f: batch.future[f][rows] for f in features}
        raw = {f: blank(raw[f], future[f]) for f in features}
        limits = self._allowed(batch.feature_service, features)
        stale = stale_masks(ages, limits)
        result = apply_contract_arrays(raw, self.contract, features, bundle.categories, stale)
        mark_future(result.statuses, future)
        accepted = result.rejected == ""
        kept = rows[accepted]
        keep_positions = np.flatnonzero(accepted)
        probability = np.array([], dtype="float64")
        if len(kept):
            columns = result.columns
            if len(kept) < len(rows):
                columns = {name: values[accepted] for name, values in columns.items()}
            # The booster runs on one thread (set when the release loaded it): OpenMP start-up
            # costs more than scoring a request's rows, and requests already run side by side.
            probability = bundle.predict_proba_columns(columns, result.categories)
        # Each row's threshold as training chose it: by its segment value when the bundle
        # has per-segment thresholds (a stale or future value counts as missing, as offline).
        thresholds = self._thresholds(bundle, raw, stale, batch, rows)[accepted]
        decision = probability >= thresholds
        statuses = {f: result.statuses[f].tolist() for f in features}
        if role != SHADOW:
            for position, row in enumerate(rows):
                if not accepted[position]:
                    error = rejection(result, position, batch, row, self.contract, limits)
                    outcomes[row] = RowOutcome(error=error)
            for j, row in enumerate(kept):
                position = keep_positions[j]
                outcomes[row] = RowOutcome(
                    prediction=prediction(
                        model, role, batch, int(row), float(probability[j]), bool(decision[j]),
                        float(thresholds[j]), {f: statuses[f][position] for f in features},
                    )
                )  # fmt: skip
        kept_statuses = (
            statuses
            if len(kept) == len(rows)
            else {f: [statuses[f][p] for p in keep_positions] for f in features}
        )
        batch.scored.append(
            ScoredRows(
                model_name=model.name,
                model_version=model.version,
                role=role,
                threshold=thresholds,
                rows=kept,
                probability=probability,
                decision=decision,
                statuses=kept_statuses,
            )
        )

    @staticmethod
    def _thresholds(
        bundle, raw: dict, stale: dict, batch: ServedBatch, rows: np.ndarray
    ) -> np.ndarray:
        """Each of ``rows``' decision threshold (``bundle.row_thresholds``)."""
        column = bundle.threshold_column
        if column is None:
            return np.full(len(rows), float(bundle.threshold))
        if column in raw:  # a feature: its served value, blanked where it is not usable
            unusable = stale.get(column, np.zeros(len(rows), dtype=bool))
            values = [None if bad else v for v, bad in zip(raw[column], unusable, strict=True)]
        else:  # an entity key
            values = [batch.keys[column][row] for row in rows]
        return bundle.row_thresholds(values)

    def _observe_ages(self, batch: ServedBatch, scored: ScoredRows) -> None:
        """Ages of the served rows, one feature per view (a view's features share an age)."""
        service = batch.feature_service
        if service not in self._views:
            _, lookup = self.stores.lookup(service)
            spec = lookup.spec
            self._views[service] = (spec.views, freshness_slas(spec, self.freshness_sla))
        views, slas = self._views[service]
        first = {}
        for feature in scored.statuses:
            first.setdefault(views.get(feature, feature), feature)
        ages = {view: batch.ages[f][scored.rows] for view, f in first.items()}
        self.metrics.observe_ages(ages, slas)

    def _allowed(self, service: str, features: list[str]) -> dict[str, float]:
        key = (service, tuple(features))
        if key not in self._limits:
            _, lookup = self.stores.lookup(service)
            self._limits[key] = allowed_ages(lookup.spec, self.contract, features)
        return self._limits[key]

    def _record(
        self,
        batches: dict[str, ServedBatch],
        outcomes: list,
        latency_ms: float,
        request_ids: list[str],
    ) -> None:
        """Log what was served (durably, before anyone is told), then count it."""
        if self.logger is not None and self.logger.sampled():
            for batch in batches.values():
                batch.latency_ms = latency_ms
            try:
                self.logger.log_batches(list(batches.values()))
            except LogUnavailable as exc:
                self._count_error(LOG_UNAVAILABLE)
                log.error("prediction log unavailable: %s", exc)
                raise ScoringError(
                    LOG_UNAVAILABLE, "the prediction log cannot record predictions right now"
                ) from None
        for outcome, request_id in zip(outcomes, request_ids, strict=True):
            if outcome is not None and outcome.error is not None:
                self._count_error(outcome.error.kind)
                if self.logger is not None:
                    error = outcome.error
                    self.logger.log_error(error.kind, error.detail, latency_ms, request_id)
        if self.metrics is not None:
            for batch in batches.values():
                for scored in batch.scored:
                    self.metrics.observe_scores(
                        scored.role, scored.model_version, scored.probability
                    )
                    if scored.role != SHADOW:
                        self.metrics.observe_statuses(scored.statuses)
                        self._observe_ages(batch, scored)

    def _count_error(self, kind: str) -> None:
        if self.metrics is not None:
            self.metrics.errors.labels(kind).inc()


def _take(values: list, rows: np.ndarray) -> list:
    return [values[i] for i in rows]


def _column(values: list) -> np.ndarray:
    """A list of served values as a numpy column; mixed or absent values stay objects."""
    column = np.asarray(values)
    # numpy turns strings into a fixed-width "<U" array; keep the served objects, as pandas
    # would (a number among strings must not become a string).
    return np.array(values, dtype=object) if column.dtype.kind in "US" else column


def _internal_outcome() -> RowOutcome:
    return RowOutcome(error=ScoringError(INTERNAL, "row was not scored"))
