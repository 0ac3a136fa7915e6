"""Request and response models of the HTTP API, as they appear in the OpenAPI document.

The request row is built from the FeatureService's entity keys at start-up (nothing is
hand-copied), so a service with other keys gets another request model automatically.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model

from serving.outcome import Prediction


class FeatureOut(BaseModel):
    value: float | bool | str | None = Field(
        description="Raw value as served, before the contract."
    )
    status: str = Field(
        description="present, missing, capped, out_of_range, unseen_category, stale, future, ..."
    )
    age_s: float | None = Field(description="Seconds between the value's event time and the "
                                "prediction time; null when unknown.")  # fmt: skip


class ModelOut(BaseModel):
    name: str
    version: str
    role: str = Field(description="champion, or canary when the challenger answered.")


class PredictionOut(BaseModel):
    request_id: str
    prediction_time: datetime
    probability: float
    decision: bool
    threshold: float
    model: ModelOut
    feature_service: str
    features: dict[str, FeatureOut]


class ErrorInfo(BaseModel):
    kind: str = Field(description="validation, not_found, contract, store_unavailable, ...")
    detail: str
    request_id: str | None = Field(
        None, description="Also in the X-Request-ID header; the server log has the details."
    )


class ErrorOut(BaseModel):
    error: ErrorInfo


class BatchItemOut(BaseModel):
    status: int = Field(description="The HTTP status this row would have had on its own.")
    prediction: PredictionOut | None = None
    error: ErrorInfo | None = None


class BatchOut(BaseModel):
    results: list[BatchItemOut]


INT64 = {"ge": -(2**63), "le": 2**63 - 1}  # what Feast's INT64 keys can hold


def request_models(
    entity_keys: dict[str, str],
    service: str,
    passthrough: Sequence[str] = (),
    max_key_length: int = 256,
) -> tuple[type[BaseModel], type[BaseModel]]:
    """(row model, batch model) for a FeatureService's entity keys (key -> Feast value type).

    ``passthrough`` names extra request fields that are logged but never used as features.
    """
    fields: dict[str, Any] = {}
    for key, kind in entity_keys.items():
        python_type = int if kind.startswith("INT") else str
        bounds = INT64 if python_type is int else {"min_length": 1, "max_length": max_key_length}
        fields[key] = (python_type, Field(description=f"Entity key of {service}.", **bounds))
    fields["prediction_time"] = (
        datetime | None,
        Field(None, description="When the prediction is asked (default: now); naive = UTC."),
    )
    text = Annotated[str, StringConstraints(max_length=max_key_length)]
    number = Annotated[int, Field(**INT64)]
    for name in passthrough:
        fields[name] = (
            text | number | None,
            Field(None, description="Passthrough field: logged with the prediction, not a "
                  "feature (serving.passthrough)."),
        )  # fmt: skip
    strict = ConfigDict(extra="forbid")
    row = create_model("PredictRequest", __config__=strict, **fields)
    batch = create_model(
        "PredictBatchRequest", __config__=strict, rows=(list[row], Field(min_length=1))
    )
    return row, batch


def prediction_body(prediction: Prediction) -> dict[str, Any]:
    """A PredictionOut as plain JSON-ready data (built by hand: this is the hot path)."""
    return {
        "request_id": prediction.request_id,
        "prediction_time": prediction.prediction_time.isoformat(),
        "probability": prediction.probability,
        "decision": prediction.decision,
        "threshold": prediction.threshold,
        "model": {
            "name": prediction.model_name,
            "version": prediction.model_version,
            "role": prediction.role,
        },
        "feature_service": prediction.feature_service,
        "features": {
            name: {"value": r.value, "status": r.status, "age_s": r.age_s}
            for name, r in prediction.features.items()
        },
    }
