"""What the scorer hands back: a prediction with its provenance, or a classified error."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

# Error kinds (the ``kind`` column of the error log) and the HTTP status each maps to.
# Nothing maps to 500: what the service cannot do right now is 503, and a client may retry.
VALIDATION, NOT_FOUND, CONTRACT = "validation", "not_found", "contract"
STORE_UNAVAILABLE, TOO_LARGE, INTERNAL = "store_unavailable", "too_large", "internal"
LOG_UNAVAILABLE, UNAUTHORIZED = "log_unavailable", "unauthorized"
UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
HTTP_STATUS = {
    VALIDATION: 422,
    NOT_FOUND: 404,
    CONTRACT: 422,
    STORE_UNAVAILABLE: 503,
    TOO_LARGE: 413,
    INTERNAL: 503,
    LOG_UNAVAILABLE: 503,
    UNAUTHORIZED: 401,
    UNSUPPORTED_MEDIA_TYPE: 415,
}


class ScoringError(Exception):
    """A request (or one row of a batch) that cannot be answered, and why."""

    def __init__(self, kind: str, detail: str, status: int | None = None) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.status = status or HTTP_STATUS[kind]


@dataclass(frozen=True)
class FeatureReport:
    """One served feature: the raw value, its contract/freshness status, its age."""

    value: Any
    status: str
    age_s: float | None


@dataclass(frozen=True)
class Prediction:
    """A decision and everything needed to trace it to the artifact and inputs that made it."""

    request_id: str
    prediction_time: datetime
    probability: float
    decision: bool
    threshold: float
    model_name: str
    model_version: str
    role: str
    feature_service: str
    features: dict[str, FeatureReport]


@dataclass(frozen=True)
class RowOutcome:
    """Exactly one of ``prediction`` and ``error`` is set."""

    prediction: Prediction | None = None
    error: ScoringError | None = None
