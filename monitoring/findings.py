"""What a check found: alarms (act now) and signals (look, but never act on them alone)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

# The room an alarm belongs to decides the action (see monitoring.decision).
AlarmArea = Literal["health", "parity", "quality"]


@dataclass(frozen=True)
class Alarm:
    """A broken expectation with its evidence: which check, which feature, how far off."""

    area: AlarmArea
    check: str  # e.g. "null_rate", "unseen_category", "freshness", "value_skew"
    feature: str | None  # None for service-wide checks (error rate, latency, quality)
    value: float
    threshold: float
    message: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Signal:
    """Drift worth a look. Drift is not failure: a signal alone never blocks or retrains."""

    check: str  # "prediction_drift" or "feature_drift"
    feature: str | None
    value: float
    threshold: float
    message: str

    def to_dict(self) -> dict:
        return asdict(self)
