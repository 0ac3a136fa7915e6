"""What each HTTP endpoint does, as plain functions from a body to (status, JSON).

No framework here: ``serving.api`` only routes requests to these and wraps the answers.
Every error answer carries the request id; what a client sees never holds a path or an
exception's text (those go to the server log and the error log).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from serving.intake import BatchTooLarge, BodyProblem, Intake, RequestReader
from serving.outcome import TOO_LARGE, VALIDATION, RowOutcome, ScoringError
from serving.schemas import prediction_body
from serving.service import ScoringService

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any]


class Endpoints:
    """The scoring service's endpoints, framework-free."""

    def __init__(self, service: ScoringService, reader: RequestReader) -> None:
        self.service = service
        self.reader = reader

    def predict(self, raw: bytes, request_id: str) -> Reply:
        """One row: its prediction, or the error that kept it from one."""
        started = time.perf_counter()
        with self.service.metrics.latency.labels("/v1/predict").time():
            try:
                intake = self.reader.single(raw)
                outcome = self._score(intake, [request_id])[0]
            except BodyProblem as exc:
                return self.error(VALIDATION, str(exc), 422, request_id, started)
            except ScoringError as exc:
                return self.error(exc.kind, exc.detail, exc.status, request_id, started)
            if outcome.error is not None:  # the scorer logged it already
                return Reply(outcome.error.status, _error_body(outcome.error, request_id))
            return Reply(200, prediction_body(outcome.prediction))

    def predict_batch(self, raw: bytes, request_id: str) -> Reply:
        """Many rows; each gets its own status, and a bad row never sinks the others."""
        started = time.perf_counter()
        with self.service.metrics.latency.labels("/v1/predict/batch").time():
            try:
                intake = self.reader.batch(raw)
                ids = [f"{request_id}-{i}" for i in range(intake.size)]
                outcomes = self._score(intake, [ids[i] for i in intake.positions])
            except BodyProblem as exc:
                return self.error(VALIDATION, str(exc), 422, request_id, started)
            except BatchTooLarge as exc:
                return self.error(TOO_LARGE, str(exc), 413, request_id, started)
            except ScoringError as exc:
                return self.error(exc.kind, exc.detail, exc.status, request_id, started)
            items: list[dict | None] = [None] * intake.size
            for index, detail in intake.problems.items():
                self._log_error(VALIDATION, detail, ids[index], started)
                error = ScoringError(VALIDATION, detail)
                items[index] = {"status": 422, "prediction": None,
                                "error": _error_body(error, ids[index])["error"]}  # fmt: skip
            for index, outcome in zip(intake.positions, outcomes, strict=True):
                items[index] = _item(outcome, ids[index])
            return Reply(200, {"results": items})

    def _score(self, intake: Intake, request_ids: list[str]) -> list[RowOutcome]:
        if not intake.positions:
            return []
        return self.service.scorer.score(
            intake.keys,
            intake.epoch_array,
            request_ids=request_ids,
            passthrough=intake.passthrough or None,
        )

    def error(self, kind: str, detail: str, status: int, request_id: str, started: float) -> Reply:
        """An error answer, counted and logged under the request id."""
        self.service.metrics.errors.labels(kind).inc()
        self._log_error(kind, detail, request_id, started)
        return Reply(status, _error_body(ScoringError(kind, detail, status), request_id))

    def _log_error(self, kind: str, detail: str, request_id: str, started: float) -> None:
        latency_ms = (time.perf_counter() - started) * 1000.0
        self.service.logger.log_error(kind, detail, latency_ms, request_id)

    def ready(self) -> Reply:
        """Readiness with its reasons and the prediction log's health (no internals)."""
        ready, reasons = self.service.ready
        health = self.service.logger.health()
        body = {
            "ready": ready,
            "reasons": reasons,
            "models": self.service.release.lineup.versions,
            "release_mode": self.service.release.lineup.mode,
            "log": {
                "durability": health.durability,
                "backlog_rows": health.backlog_rows,
                "oldest_unwritten_s": round(health.oldest_unwritten_s, 3),
                "dead_lettered": health.dead_lettered,
                "writer_up": health.writer_up,
            },
        }
        return Reply(200 if ready else 503, body)

    def metrics(self) -> bytes:
        """The Prometheus exposition, with the store's and the log's state refreshed."""
        metrics = self.service.metrics
        metrics.store_up.set(1.0 if self.service.stores.up else 0.0)
        metrics.observe_log(self.service.logger.health())
        return metrics.render()


def _item(outcome: RowOutcome, request_id: str) -> dict:
    if outcome.prediction is not None:
        return {"status": 200, "prediction": prediction_body(outcome.prediction), "error": None}
    error = outcome.error
    return {"status": error.status, "prediction": None,
            "error": _error_body(error, request_id)["error"]}  # fmt: skip


def _error_body(error: ScoringError, request_id: str) -> dict:
    return {"error": {"kind": error.kind, "detail": error.detail, "request_id": request_id}}
