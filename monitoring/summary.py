"""The result of one monitoring run, as written to ``summary.json``."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from monitoring.decision import Decision
from monitoring.findings import Alarm, Signal


@dataclass
class Summary:
    """Everything one window's run decided and why; metrics are a flat dict by name."""

    window: dict[str, str]
    model: dict[str, str]
    decision: Decision
    alarms: list[Alarm] = field(default_factory=list)
    signals: list[Signal] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    labels: dict = field(default_factory=dict)  # coverage, note, cells, calibration
    estimates: list[dict] = field(default_factory=list)  # quality expected from the scores
    parity_examples: dict[str, list[dict]] = field(default_factory=dict)
    drift: list[dict] = field(default_factory=list)  # one row per feature
    notes: list[str] = field(default_factory=list)
    reports: dict[str, str] = field(default_factory=dict)  # name -> file, relative
    timings_s: dict[str, float] = field(default_factory=dict)
    not_run: list[dict] = field(default_factory=list)  # checks with too few rows
    profile: dict = field(default_factory=dict)  # where the thresholds came from

    @property
    def action(self) -> str:
        return self.decision.action

    def to_dict(self) -> dict:
        return _finite(
            {
                "window": self.window,
                "model": self.model,
                "decision": self.decision.to_dict(),
                "alarms": [a.to_dict() for a in self.alarms],
                "signals": [s.to_dict() for s in self.signals],
                "metrics": self.metrics,
                "labels": self.labels,
                "estimates": self.estimates,
                "parity_examples": self.parity_examples,
                "drift": self.drift,
                "notes": self.notes,
                "reports": self.reports,
                "timings_s": self.timings_s,
                "not_run": self.not_run,
                "profile": self.profile,
            }
        )


def _finite(value: object) -> object:
    """JSON has no NaN: undefined numbers become null."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        return _finite(value.item())
    return value
