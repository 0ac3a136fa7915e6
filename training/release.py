"""Move the ``champion`` and ``challenger`` aliases, with a gate and an audit record each time.

Continuous training only ever sets ``challenger``; ``champion`` moves only through
:func:`promote` (gate must pass, or ``force`` with a reason) or :func:`rollback` (back to
the previous champion in the audit trail). If anything fails, the alias is left as it was.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ontime.errors import OntimeError
from ontime.settings import Settings
from training import audit, registry
from training.gate_rules import SHIP, GateReport

log = logging.getLogger(__name__)


class PromotionRefused(OntimeError):
    """The gate blocked a promotion; the report says why."""

    def __init__(self, report: GateReport, current: str | None):
        self.report = report
        failed = ", ".join(check.name for check in report.failed)
        still = f"still v{current}" if current else "still unset"
        super().__init__(
            f"promotion of v{report.candidate['version']} refused: gate BLOCK ({failed}); "
            f"champion unchanged ({still})"
        )


@dataclass
class AliasMove:
    entry: dict
    report: GateReport | None = None


def gate_summary(report: GateReport) -> dict:
    """What the audit log keeps of a gate report: decision, each check, the saved file."""
    return {
        "decision": report.decision,
        "reference": report.reference["label"],
        "snapshot_id": report.evaluation["snapshot_id"],
        "report_path": report.evaluation.get("report_path"),
        "checks": [{"name": c.name, "passed": c.passed, "detail": c.detail} for c in report.checks],
    }


def _move(settings: Settings, alias: str, new: str | None, entry: dict) -> dict:
    """Move the alias, then append the audit line; undo the move if the line cannot be written."""
    previous = entry["from"]
    registry.set_alias(settings, alias, new)
    try:
        audit.append(settings.training.registry.audit_log, entry)
    except OSError as exc:
        registry.set_alias(settings, alias, previous)
        raise OntimeError(
            f"cannot write the audit log ({exc}); {alias} left at {previous or 'unset'}"
        ) from None
    log.info("%s: %s -> %s (%s)", alias, previous, new, entry["action"])
    return entry


def mark_challenger(settings: Settings, version: str, reason: str) -> AliasMove:
    """Point ``challenger`` at a freshly trained version (never touches champion)."""
    previous = registry.alias_versions(settings).get(registry.CHALLENGER)
    entry = audit.record(
        model=registry.registered_name(settings),
        alias=registry.CHALLENGER,
        previous=previous,
        new=version,
        action="challenger",
        reason=reason,
    )
    return AliasMove(_move(settings, registry.CHALLENGER, version, entry))


def promote(
    settings: Settings, version_ref: str, force: bool = False, reason: str | None = None
) -> AliasMove:
    """Make a version champion if the gate ships it (or ``force`` with a reason)."""
    from training.gate import run_gate

    if force and not (reason and reason.strip()):
        raise OntimeError("--force requires --reason explaining why the gate is overridden")
    version = registry.resolve_version(settings, version_ref)
    aliases = registry.alias_versions(settings)
    current = aliases.get(registry.CHAMPION)
    if current == version:
        raise OntimeError(f"v{version} is already the champion")
    report = run_gate(settings, version, registry.CHAMPION)
    if report.decision != SHIP and not force:
        raise PromotionRefused(report, current)
    name = registry.registered_name(settings)
    action = "promote" if report.decision == SHIP else "force-promote"
    entry = audit.record(
        model=name,
        alias=registry.CHAMPION,
        previous=current,
        new=version,
        action=action,
        reason=reason or "gate passed",
        gate=gate_summary(report),
    )
    move = AliasMove(_move(settings, registry.CHAMPION, version, entry), report)
    if aliases.get(registry.CHALLENGER) == version:  # a challenger that became champion
        cleared = audit.record(
            model=name,
            alias=registry.CHALLENGER,
            previous=version,
            new=None,
            action="clear",
            reason=f"v{version} promoted to champion",
        )
        _move(settings, registry.CHALLENGER, None, cleared)
    return move


def rollback(settings: Settings, reason: str | None = None) -> AliasMove:
    """Point champion back at the previous champion recorded in the audit trail."""
    name = registry.registered_name(settings)
    stack = audit.alias_stack(
        audit.read(settings.training.registry.audit_log, model=name), registry.CHAMPION
    )
    current = registry.alias_versions(settings).get(registry.CHAMPION)
    if current is None:
        raise OntimeError(f"model '{name}' has no champion to roll back")
    if not stack or stack[-1] != current:
        raise OntimeError(
            f"champion is v{current} but the audit trail says "
            f"{'v' + stack[-1] if stack else 'nothing'}; the alias was moved outside ontime, "
            "so promote the wanted version explicitly"
        )
    if len(stack) < 2:
        raise OntimeError(
            f"v{current} is the first champion in the audit trail; nothing to roll back to"
        )
    target = registry.resolve_version(settings, stack[-2])
    entry = audit.record(
        model=name,
        alias=registry.CHAMPION,
        previous=current,
        new=target,
        action="rollback",
        reason=reason or "rollback",
    )
    return AliasMove(_move(settings, registry.CHAMPION, target, entry))


def history(settings: Settings) -> list[dict]:
    """Every alias move of this model, oldest first."""
    return audit.read(
        settings.training.registry.audit_log, model=registry.registered_name(settings)
    )
