"""Move the ``champion`` and ``challenger`` aliases, with a gate and an audit record each time.

Continuous training only ever sets ``challenger``; ``champion`` moves only through
:func:`promote` (gate must pass, or ``force`` with a reason) or :func:`rollback` (back to
the previous champion in the audit trail). Each is one release transaction
(``training.release_store``): the aliases are read, the version is verified (file digests,
a load and probe in a child process) and gated, and the alias moves with its audit entry,
all under one lock. If anything fails, nothing moves and nothing is recorded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ontime.errors import OntimeError
from ontime.settings import Settings
from training import audit, registry, release_store
from training.gate_rules import SHIP, GateReport
from training.integrity import ModelRejected

log = logging.getLogger(__name__)


class PromotionRefused(OntimeError):
    """The gate blocked a promotion; the report says why."""

    def __init__(self, report: GateReport, current: str | None):
        self.report = report
        self.current = current
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


def _verified(
    settings: Settings, version: str, doing: str, current: str | None
) -> registry.LoadedModel:
    """The version loaded as serving will load it (digests, child process, probe), or a
    one-line refusal that says the champion did not move."""
    try:
        return registry.load_version(settings, version, isolated=True)
    except ModelRejected as exc:
        still = f"still v{current}" if current else "still unset"
        raise OntimeError(f"{doing} refused: {exc}; champion unchanged ({still})") from None


def _logged(entries: list[dict]) -> None:
    for entry in entries:
        log.info("%s: %s -> %s (%s)", entry["alias"], entry["from"], entry["to"], entry["action"])


def mark_challenger(settings: Settings, version: str, reason: str) -> AliasMove:
    """Point ``challenger`` at a freshly trained version (never touches champion)."""
    digests = registry.artifact_digests(settings, version)
    with release_store.transaction(settings) as release:
        entry = audit.record(
            model=release.model,
            alias=registry.CHALLENGER,
            previous=release.aliases().get(registry.CHALLENGER),
            new=version,
            action="challenger",
            reason=reason,
            artifacts=digests,
        )
        release.move(entry)
    _logged(release.entries)
    return AliasMove(entry)


def promote(
    settings: Settings,
    version_ref: str,
    force: bool = False,
    reason: str | None = None,
    bootstrap_reason: str | None = None,
) -> AliasMove:
    """Make a version champion if the gate ships it (or ``force`` with a reason).

    ``bootstrap_reason`` overrides a blocking gate only when there is no champion yet (as
    read under the lock), and is recorded as the reason.
    """
    from training.gate import run_gate

    if force and not (reason and reason.strip()):
        raise OntimeError("--force requires --reason explaining why the gate is overridden")
    with release_store.transaction(settings) as release:
        version = registry.resolve_version(settings, version_ref)
        aliases = release.aliases()
        current = aliases.get(registry.CHAMPION)
        if current == version:
            raise OntimeError(f"v{version} is already the champion")
        candidate = _verified(settings, version, f"promotion of v{version}", current)
        report = run_gate(settings, version, registry.CHAMPION, candidate=candidate)
        if report.reference.get("version") != current:  # the lock makes this impossible
            raise OntimeError(f"the champion moved while v{version} was gated; try again")
        if report.decision != SHIP and not force:
            if not (bootstrap_reason and current is None):
                raise PromotionRefused(report, current)
            force, reason = True, bootstrap_reason
        entry = audit.record(
            model=release.model,
            alias=registry.CHAMPION,
            previous=current,
            new=version,
            action="promote" if report.decision == SHIP else "force-promote",
            reason=reason or "gate passed",
            gate=gate_summary(report),
            artifacts=candidate.digests,
        )
        release.move(entry)
        if aliases.get(registry.CHALLENGER) == version:  # a challenger that became champion
            cleared = audit.record(
                model=release.model,
                alias=registry.CHALLENGER,
                previous=version,
                new=None,
                action="clear",
                reason=f"v{version} promoted to champion",
            )
            release.move(cleared)
    _logged(release.entries)
    return AliasMove(entry, report)


def rollback(settings: Settings, reason: str | None = None) -> AliasMove:
    """Point champion back at the previous champion recorded in the audit trail."""
    with release_store.transaction(settings) as release:
        name = release.model
        stack = audit.alias_stack(release.history(), registry.CHAMPION)
        current = release.aliases().get(registry.CHAMPION)
        if current is None:
            raise OntimeError(f"model '{name}' has no champion to roll back")
        if not stack or stack[-1] != current:
            raise OntimeError(
                f"champion is v{current} but the audit trail says "
                f"{'v' + stack[-1] if stack else 'nothing'}; the alias was moved outside "
                "ontime, so promote the wanted version explicitly"
            )
        if len(stack) < 2:
            raise OntimeError(
                f"v{current} is the first champion in the audit trail; nothing to roll back to"
            )
        target = registry.resolve_version(settings, stack[-2])
        verified = _verified(settings, target, f"rollback to v{target}", current)
        entry = audit.record(
            model=name,
            alias=registry.CHAMPION,
            previous=current,
            new=target,
            action="rollback",
            reason=reason or "rollback",
            artifacts=verified.digests,
        )
        release.move(entry)
    _logged(release.entries)
    return AliasMove(entry)


def history(settings: Settings) -> list[dict]:
    """Every alias move of this model, oldest first."""
    return release_store.read_history(settings, model=registry.registered_name(settings))
