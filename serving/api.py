"""The thin FastAPI adapter over the scorer: parse, call, map outcomes to HTTP, measure.

Fail closed, never 500 for bad input: a malformed body is 422 naming the field, an unknown
entity 404, a rejected required feature 422 naming it, a store outage 503 with the reason,
an oversized batch 413. Every answer names the model version that produced it.
"""

# No ``from __future__ import annotations`` here: FastAPI must see the request models built
# at run time as real classes, not as strings.
import logging
import time
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import numpy as np
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError

from ontime.timeutil import as_utc
from serving.outcome import TOO_LARGE, VALIDATION, ScoringError
from serving.schemas import BatchOut, ErrorOut, PredictionOut, prediction_body, request_models
from serving.service import ScoringService

log = logging.getLogger(__name__)

ERRORS = {code: {"model": ErrorOut} for code in (404, 413, 422, 503)}
REF = "#/components/schemas/"


def create_app(service: ScoringService, manage_lifecycle: bool = True) -> FastAPI:
    """The HTTP app; with ``manage_lifecycle`` it starts and stops the service with itself."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        if manage_lifecycle:
            service.start()
        try:
            yield
        finally:
            if manage_lifecycle:
                service.stop()

    app = FastAPI(title="ontime scoring service", version="1", lifespan=lifespan)
    row_model, batch_model = request_models(service.entity_types, service.request_service)
    keys = list(service.entity_types)
    metrics = service.metrics

    def error(kind: str, detail: str, status: int, started: float) -> JSONResponse:
        latency = time.perf_counter() - started
        service.logger.log_error(kind, detail, latency * 1000.0)
        return JSONResponse({"error": {"kind": kind, "detail": detail}}, status_code=status)

    def columns(rows: list) -> tuple[dict[str, list], np.ndarray]:
        now = datetime.now(UTC).timestamp()
        times = np.array(
            [_epoch(r.prediction_time) if r.prediction_time else now for r in rows],
            dtype="float64",
        )
        return {k: [getattr(r, k) for r in rows] for k in keys}, times

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]]
        metrics.errors.labels(VALIDATION).inc()
        return error(VALIDATION, "; ".join(problems), 422, time.perf_counter())

    # The hot endpoints parse the raw body with the same pydantic models FastAPI would use
    # (declared below for the OpenAPI document) and score in the thread pool: FastAPI's
    # generic body handling costs a noticeable share of a single-row request.
    @app.post(
        "/v1/predict",
        response_model=PredictionOut,
        responses=ERRORS,
        openapi_extra=_request_body(row_model),
    )
    async def predict(request: Request) -> Response:
        body = _parse(row_model, await request.body())
        return await run_in_threadpool(score_one, body)

    def score_one(body) -> Response:
        started = time.perf_counter()
        with metrics.latency.labels("/v1/predict").time():
            entity, times = columns([body])
            try:
                outcome = service.scorer.score(entity, times)[0]
            except ScoringError as exc:
                return error(exc.kind, exc.detail, exc.status, started)
            if outcome.error is not None:
                return JSONResponse(
                    {"error": {"kind": outcome.error.kind, "detail": outcome.error.detail}},
                    status_code=outcome.error.status,
                )
            return JSONResponse(prediction_body(outcome.prediction))

    @app.post(
        "/v1/predict/batch",
        response_model=BatchOut,
        responses=ERRORS,
        openapi_extra=_request_body(batch_model),
    )
    async def predict_batch(request: Request) -> Response:
        body = _parse(batch_model, await request.body())
        return await run_in_threadpool(score_batch, body)

    def score_batch(body) -> Response:
        started = time.perf_counter()
        with metrics.latency.labels("/v1/predict/batch").time():
            rows = body.rows
            if len(rows) > service.max_batch_rows:
                metrics.errors.labels(TOO_LARGE).inc()
                detail = (
                    f"batch of {len(rows)} rows exceeds the limit of {service.max_batch_rows} "
                    "(serving.max_batch_rows)"
                )
                return error(TOO_LARGE, detail, 413, started)
            entity, times = columns(rows)
            try:
                outcomes = service.scorer.score(entity, times)
            except ScoringError as exc:
                return error(exc.kind, exc.detail, exc.status, started)
            results = [
                {"status": 200, "prediction": prediction_body(o.prediction), "error": None}
                if o.prediction is not None
                else {
                    "status": o.error.status,
                    "prediction": None,
                    "error": {"kind": o.error.kind, "detail": o.error.detail},
                }
                for o in outcomes
            ]
            return JSONResponse({"results": results})

    def openapi() -> dict:
        # The request models are not endpoint parameters, so add their schemas by hand.
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, routes=app.routes)
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            for model in (row_model, batch_model):
                schema = model.model_json_schema(ref_template=REF + "{model}")
                schemas.update(schema.pop("$defs", {}))
                schemas[model.__name__] = schema
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi

    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        ready, reasons = service.ready
        body = {
            "ready": ready,
            "reasons": reasons,
            "models": service.release.lineup.versions,
            "release_mode": service.release.lineup.mode,
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.get("/metrics")
    def prometheus() -> Response:
        metrics.store_up.set(1.0 if service.stores.up else 0.0)
        return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    @app.exception_handler(Exception)
    async def crashed(_request: Request, exc: Exception) -> JSONResponse:
        # A bug, not bad input: say so plainly, count it, and keep serving.
        log.exception("unhandled error while serving")
        metrics.errors.labels("internal").inc()
        return error("internal", f"{type(exc).__name__}: {exc}", 500, time.perf_counter())

    return app


def _parse(model: type[BaseModel], raw: bytes) -> BaseModel:
    """Validate a JSON body; errors are reported exactly like FastAPI's (``body.<field>``)."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        problems = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
        raise RequestValidationError(problems) from None


def _request_body(model: type[BaseModel]) -> dict:
    """The OpenAPI requestBody of an endpoint that parses ``model`` itself."""
    schema = {"$ref": REF + model.__name__}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def _epoch(moment: datetime) -> float:
    return as_utc(moment).timestamp()
