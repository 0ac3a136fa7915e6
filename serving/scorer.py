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
from serving.freshness import allowed_ages, feature_ages, stale_masks
from serving.lookup import ServiceLookup
from serving.metrics import ServingMetrics
from serving.models import ServedModel
from serving.outcome import (
    CONTRACT,
    INTERNAL,
    NOT_FOUND,
    STORE_UNAVAILABLE,
    FeatureReport,
    Prediction,
    RowOutcome,
    ScoringError,
)
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
    ) -> None:
        self.stores = stores
        self.release = release
        self.contract = contract
        self.logger = logger
        self.metrics = metrics
        self._limits: dict[tuple[str, tuple[str, ...]], dict[str, float]] = {}

    def score(
        self, keys: dict[str, list], prediction_epoch_s: np.ndarray, extra: dict | None = None
    ) -> list[RowOutcome]:
        """Score rows given column-wise (entity key -> values) at their prediction times.

        Raises ScoringError for what fails the whole batch (no model, store down); a row the
        contract rejects or whose entity is unknown gets its own error outcome.
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
        request_ids = [uuid.uuid4().hex for _ in range(n)]
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
                    batches[model.bundle.feature_service] = batch
                self._run(model, role, rows, batch, outcomes)
            except ScoringError as exc:
                if role == SHADOW:  # a shadow must never change or fail the answer
                    log.warning("shadow %s v%s skipped: %s", model.name, model.version, exc)
                    continue
                self._count_error(exc.kind)
                raise
        latency_ms = (time.perf_counter() - started) * 1000.0
        self._record(batches, outcomes, latency_ms)
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
        stale = stale_masks(ages, self._allowed(batch.feature_service, features))
        result = apply_contract_arrays(raw, self.contract, features, bundle.categories, stale)
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
        decision = bundle.decide(probability)
        statuses = {f: result.statuses[f].tolist() for f in features}
        if role != SHADOW:
            for position, row in enumerate(rows):
                if not accepted[position]:
                    outcomes[row] = RowOutcome(error=self._rejection(result, position, batch, row))
            for j, row in enumerate(kept):
                position = keep_positions[j]
                outcomes[row] = RowOutcome(
                    prediction=self._prediction(
                        model, role, batch, int(row), float(probability[j]), bool(decision[j]),
                        {f: statuses[f][position] for f in features},
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
                threshold=float(bundle.threshold),
                rows=kept,
                probability=probability,
                decision=decision,
                statuses=kept_statuses,
            )
        )

    def _allowed(self, service: str, features: list[str]) -> dict[str, float]:
        key = (service, tuple(features))
        if key not in self._limits:
            _, lookup = self.stores.lookup(service)
            self._limits[key] = allowed_ages(lookup.spec, self.contract, features)
        return self._limits[key]

    def _rejection(self, result, position: int, batch: ServedBatch, row: int) -> ScoringError:
        """404 when a required feature is absent because its entity is unknown, else 422."""
        reason = result.rejected[position]
        online = batch.online
        for feature in result.statuses:
            rule = self.contract.rule(feature)
            if rule.missing == "reject" and not online.found[feature][row]:
                named = ", ".join(
                    f"{k}='{batch.keys[k][row]}'" for k in online.feature_keys[feature]
                )
                return ScoringError(NOT_FOUND, f"{named} is not in the online store")
        return ScoringError(CONTRACT, reason)

    def _prediction(
        self,
        model: ServedModel,
        role: str,
        batch: ServedBatch,
        row: int,
        probability: float,
        decision: bool,
        statuses: dict[str, str],
    ) -> Prediction:
        reports = {}
        for feature, status in statuses.items():
            age = float(batch.ages[feature][row])
            reports[feature] = FeatureReport(
                value=batch.online.values[feature][row],
                status=status,
                age_s=None if np.isnan(age) else age,
            )
        return Prediction(
            request_id=batch.request_ids[row],
            prediction_time=datetime.fromtimestamp(batch.prediction_epoch_s[row], tz=UTC),
            probability=probability,
            decision=decision,
            threshold=float(model.bundle.threshold),
            model_name=model.name,
            model_version=model.version,
            role=role,
            feature_service=batch.feature_service,
            features=reports,
        )

    def _record(self, batches: dict[str, ServedBatch], outcomes: list, latency_ms: float) -> None:
        for outcome in outcomes:
            if outcome is not None and outcome.error is not None:
                self._count_error(outcome.error.kind)
                if self.logger is not None:
                    self.logger.log_error(outcome.error.kind, outcome.error.detail, latency_ms)
        if self.metrics is not None:
            for batch in batches.values():
                for scored in batch.scored:
                    self.metrics.observe_scores(
                        scored.role, scored.model_version, scored.probability
                    )
                    if scored.role != SHADOW:
                        self.metrics.observe_statuses(scored.statuses)
        if self.logger is not None and self.logger.sampled():
            for batch in batches.values():
                batch.latency_ms = latency_ms
                self.logger.log_batch(batch)

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
