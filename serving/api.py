"""The thin FastAPI adapter over the scoring service: route, call, wrap the answer.

Fail closed, never 500: a malformed body is 422 naming the field (a batch row gets its own
422 item), an unknown entity 404, a rejected required feature 422 naming it, a store or
log outage 503, an oversized body or batch 413, a body that is not JSON 415. The edge
checks (request id, token, media type, size, exception shield) live in ``serving.guard``,
the endpoint logic in ``serving.endpoints``; every answer names the model version.
"""

# No ``from __future__ import annotations`` here: FastAPI must see the request models built
# at run time as real classes, not as strings.
import time
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from serving.endpoints import Endpoints, Reply
from serving.guard import Guard
from serving.intake import RequestReader
from serving.outcome import VALIDATION
from serving.schemas import BatchOut, ErrorOut, PredictionOut, request_models
from serving.service import ScoringService

ERRORS = {code: {"model": ErrorOut} for code in (401, 404, 413, 415, 422, 503)}
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
    edge = service.edge
    row_model, batch_model = request_models(
        service.entity_types, service.request_service, service.passthrough, edge.max_key_length
    )
    reader = RequestReader(
        row_model, list(service.entity_types), service.passthrough, edge.window,
        service.max_batch_rows,
    )  # fmt: skip
    endpoints = Endpoints(service, reader)
    _routes(app, endpoints, row_model, batch_model)
    app.add_exception_handler(RequestValidationError, _invalid_handler(endpoints))
    app.add_middleware(
        Guard, max_body_bytes=edge.max_body_bytes, token=edge.token,
        on_error=_guard_logger(service),
    )  # fmt: skip
    return app


def _routes(app: FastAPI, endpoints: Endpoints, row_model, batch_model) -> None:
    # The hot endpoints read the raw body and validate it themselves (per row for a batch);
    # the request models are declared for the OpenAPI document only.
    @app.post("/v1/predict", response_model=PredictionOut, responses=ERRORS,
              openapi_extra=_request_body(row_model))  # fmt: skip
    async def predict(request: Request) -> Response:
        raw = await request.body()
        reply = await run_in_threadpool(endpoints.predict, raw, request.state.request_id)
        return _json(reply)

    @app.post("/v1/predict/batch", response_model=BatchOut, responses=ERRORS,
              openapi_extra=_request_body(batch_model))  # fmt: skip
    async def predict_batch(request: Request) -> Response:
        raw = await request.body()
        reply = await run_in_threadpool(endpoints.predict_batch, raw, request.state.request_id)
        return _json(reply)

    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> Response:
        return _json(endpoints.ready())

    @app.get("/metrics")
    def prometheus() -> Response:
        return Response(endpoints.metrics(), media_type="text/plain; version=0.0.4")

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


def _invalid_handler(endpoints: Endpoints):
    """FastAPI's own validation (parameters of other routes): 422 with the request id."""

    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]]
        detail, request_id = "; ".join(problems), request.state.request_id
        reply = endpoints.error(VALIDATION, detail, 422, request_id, time.perf_counter())
        return _json(reply)

    return invalid


def _guard_logger(service: ScoringService):
    """Refusals at the edge go to the error log and the error counter like any other."""

    def record(kind: str, detail: str, request_id: str) -> None:
        service.metrics.errors.labels(kind).inc()
        service.logger.log_error(kind, detail, 0.0, request_id)

    return record


def _json(reply: Reply) -> JSONResponse:
    return JSONResponse(reply.body, status_code=reply.status)


def _request_body(model: type[BaseModel]) -> dict:
    """The OpenAPI requestBody of an endpoint that parses ``model`` itself."""
    schema = {"$ref": REF + model.__name__}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}
