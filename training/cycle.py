"""The continuous-training loop: trigger -> validate -> train -> gate -> challenger -> promote.

A cycle never replaces production on its own judgement alone: the new version becomes
champion only if the release gate ships it against the current champion; otherwise it stays
``challenger`` (scored in shadow by serving) with the gate's reasons. The previous champion
stays in the audit trail, so ``ontime rollback`` always has somewhere to go back to.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ontime.errors import OntimeError
from ontime.settings import Settings
from training.pipeline import train
from training.release import PromotionRefused, promote

log = logging.getLogger(__name__)

# Monitoring decisions that justify a new candidate; the others need a human or a fix first.
RETRAIN_DECISIONS = frozenset({"retrain"})


@dataclass
class CycleResult:
    trigger: str
    version: str
    outcome: str  # "promoted", "force-promoted ..." (bootstrap only) or "challenger"
    champion_before: str | None
    champion_after: str | None
    gate: str  # readable gate report


def trigger_from_summary(path: Path) -> str | None:
    """The reason to retrain found in a monitoring ``summary.json``, or None."""
    try:
        decision = json.loads(Path(path).read_text())["decision"]
    except (OSError, ValueError, KeyError) as exc:
        raise OntimeError(f"cannot read a monitoring decision from {path}: {exc}") from None
    name = decision if isinstance(decision, str) else decision.get("decision", "")
    return f"monitor decision '{name}' ({path})" if name in RETRAIN_DECISIONS else None


def run_cycle(
    settings: Settings,
    trigger: str,
    cutoff: datetime | None = None,
    bootstrap_reason: str | None = None,
) -> CycleResult:
    """Train a candidate on a new frozen snapshot and promote it only through the gate.

    ``bootstrap_reason`` allows a forced (audited) promotion when there is no champion yet;
    the very first model has only the baseline to beat and may trade one gate for another.
    """
    log.info("cycle triggered: %s", trigger)
    result = train(settings, cutoff=cutoff)  # data tests + leakage gate run inside
    try:
        # The bootstrap rule (no champion yet) is decided under the release lock.
        move = promote(
            settings,
            result.version,
            reason=f"cycle: {trigger}",
            bootstrap_reason=bootstrap_reason,
        )
    except PromotionRefused as refused:
        before = after = refused.current
        outcome, report = "challenger", refused.report
    else:
        before, after, report = move.entry["from"], move.entry["to"], move.report
        outcome = (
            "promoted"
            if move.entry["action"] == "promote"
            else f"force-promoted despite the gate ({bootstrap_reason})"
        )
    return CycleResult(
        trigger, result.version, outcome, before, after, report.text() if report else ""
    )
