"""The decision router: one action per window, with the evidence that chose it.

Precedence: block > repair_parity > rollback > retrain > inspect > ok. Broken inputs make
every later question meaningless; skewed features would be baked into a retrained model;
a regression right after a release is the release's fault; degraded quality on valid data
calls for fresh data; drift without label evidence only asks a person to look.

Only a hard input failure blocks (a health alarm of severity ``block``). A softer health
alarm (one segment's values lagging, still within their budget) means the inputs are not
known to be valid: it asks for ``inspect`` and keeps quality from calling for a retrain or
rollback. Checks that could not be run on too few rows are named in every decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from monitoring.findings import Alarm, NotRun, Signal

BLOCK, REPAIR_PARITY, ROLLBACK, RETRAIN, INSPECT, OK = (
    "block",
    "repair_parity",
    "rollback",
    "retrain",
    "inspect",
    "ok",
)
PRECEDENCE = (BLOCK, REPAIR_PARITY, ROLLBACK, RETRAIN, INSPECT, OK)


@dataclass(frozen=True)
class Decision:
    """The window's one action, why, and the findings behind it."""

    action: str
    reason: str
    evidence: list[dict] = field(default_factory=list)
    features: list[str] = field(default_factory=list)  # features the action is about
    not_run: list[str] = field(default_factory=list)  # checks with too few rows to judge

    def to_dict(self) -> dict:
        return asdict(self)


def decide(
    alarms: Sequence[Alarm],
    signals: Sequence[Signal],
    *,
    traffic: int,
    labels_sufficient: bool,
    degraded: bool,
    regressed_after_release: bool,
    not_run: Sequence[NotRun] = (),
) -> Decision:
    """Route the findings of one window to a single action."""
    decision = _route(
        alarms, signals, traffic, labels_sufficient, degraded, regressed_after_release
    )
    if not not_run:
        return decision
    names = list(dict.fromkeys(n.name for n in not_run))
    reason = f"{decision.reason}; not run, too few rows: {', '.join(names)}"
    return Decision(decision.action, reason, decision.evidence, decision.features, names)


def _route(
    alarms: Sequence[Alarm],
    signals: Sequence[Signal],
    traffic: int,
    labels_sufficient: bool,
    degraded: bool,
    regressed_after_release: bool,
) -> Decision:
    health = [a for a in alarms if a.area == "health"]
    hard = [a for a in health if a.severity != INSPECT]
    if hard:
        return _from_alarms(BLOCK, "input health is broken", hard)
    if traffic == 0:
        return Decision(INSPECT, "no traffic: the window holds no champion predictions")
    parity = [a for a in alarms if a.area == "parity"]
    if parity:
        return _from_alarms(REPAIR_PARITY, "served features differ from offline", parity)
    if health:  # inputs not known to be valid: no quality verdict can be acted on
        return _from_alarms(INSPECT, "inputs look unusual", health)
    quality = [a for a in alarms if a.area == "quality"]
    if regressed_after_release:
        return _from_alarms(ROLLBACK, "quality regressed right after the release", quality)
    if degraded:
        return _from_alarms(RETRAIN, "quality degraded on valid inputs", quality)
    if signals and not labels_sufficient:
        kinds = {"an estimated cost rise" if s.check == "estimated_cost" else "drift"
                 for s in signals}  # fmt: skip
        return Decision(
            INSPECT,
            f"{' and '.join(sorted(kinds))} without label evidence yet",
            [s.to_dict() for s in signals],
            sorted({s.feature for s in signals if s.feature}),
        )
    if signals:
        return Decision(
            OK,
            "drift, but labels show quality within tolerance: drift is not failure",
            [s.to_dict() for s in signals],
        )
    return Decision(OK, "no alarms")


def _from_alarms(action: str, reason: str, alarms: Sequence[Alarm]) -> Decision:
    """A decision whose reason names the features the alarms are about."""
    features = sorted({a.feature for a in alarms if a.feature})
    named = f"{reason}: {', '.join(features)}" if features else reason
    return Decision(action, named, [a.to_dict() for a in alarms], features)
