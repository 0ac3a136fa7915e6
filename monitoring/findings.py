"""What a check found: alarms (act now), signals (look, but never act on them alone), and
checks that could not be run on too few rows."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

# The room an alarm belongs to decides the action (see monitoring.decision).
AlarmArea = Literal["health", "parity", "quality"]
# A health alarm's severity: a hard input failure blocks; anything softer asks a person.
Severity = Literal["block", "inspect"]


@dataclass(frozen=True)
class Alarm:
    """A broken expectation with its evidence: which check, which feature, how far off."""

    area: AlarmArea
    check: str  # e.g. "null_rate", "unseen_category", "freshness", "value_skew"
    feature: str | None  # None for service-wide checks (error rate, latency, quality)
    value: float
    threshold: float
    message: str
    severity: Severity | None = None  # health alarms only

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


@dataclass(frozen=True)
class NotRun:
    """A check (or one segment of it) that had too few rows to judge: ``insufficient``."""

    check: str
    feature: str | None
    rows: int
    needed: int
    segment: str | None = None  # e.g. "carrier_id=bluebox"

    @property
    def name(self) -> str:
        """``check feature`` or ``check[segment]``, for a decision's reason (a segment too
        small for one feature is too small for all of them)."""
        if self.segment:
            return f"{self.check}[{self.segment}]"
        return " ".join(p for p in (self.check, self.feature) if p)

    def to_dict(self) -> dict:
        return asdict(self) | {"status": "insufficient"}
