"""Release gate rules: should a candidate replace the reference (champion, or the baseline)?

Pure logic over two summaries computed on the same rows (see ``evaluate.summarize``), so it
can be tested on hand-made numbers. Every check reports its numbers; the decision is SHIP
only when every check passes. A check that cannot be evaluated (too few rows) fails: a gate
that cannot see must not wave a model through.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ontime.settings.training import GateSettings

SHIP, BLOCK = "SHIP", "BLOCK"


@dataclass
class Check:
    name: str
    passed: bool
    detail: str
    candidate: float | None = None
    reference: float | None = None
    tolerance: float | None = None


@dataclass
class GateReport:
    decision: str
    candidate: dict
    reference: dict
    evaluation: dict
    checks: list[Check]
    notes: list[str] = field(default_factory=list)
    created_at: str = ""

    @property
    def failed(self) -> list[Check]:
        return [check for check in self.checks if not check.passed]

    def to_dict(self) -> dict:
        return asdict(self)

    def text(self) -> str:
        """Readable form: decision line, then one line per check, then notes."""
        cand, ref = self.candidate, self.reference
        lines = [
            f"{self.decision}: {cand['name']} v{cand['version']} vs {ref['label']} "
            f"on {self.evaluation['snapshot_id']} {self.evaluation['split']} split "
            f"({self.evaluation['rows']} rows)"
        ]
        lines += [f"  [{'pass' if c.passed else 'FAIL'}] {c.name}: {c.detail}" for c in self.checks]
        lines += [f"  note: {note}" for note in self.notes]
        if advice := self.baseline_advice():
            lines.append(f"  {advice}")
        return "\n".join(lines)

    def baseline_advice(self) -> str | None:
        """When the candidate loses to the logistic baseline on cost, say so and what to do."""
        if self.decision == SHIP or self.reference.get("kind") != "baseline":
            return None
        cost = next((c for c in self.checks if c.name == "expected_cost"), None)
        if cost is None or cost.passed:
            return None
        return (
            f"the candidate does not beat the logistic baseline (cost per order "
            f"{_num(cost.candidate)} vs {_num(cost.reference)}), so this BLOCK is right. "
            "Start from the better model: `ontime train --model baseline` registers the "
            "baseline itself; promote that version through the same gate."
        )


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def critical_missed_delay(candidate: dict, reference: dict, gate: GateSettings) -> Check:
    """Missed-delay rate in the critical slice may rise by at most the tolerance."""
    name = "critical_missed_delay"
    if not gate.critical_segment:
        return Check(name, True, "no critical segment configured (training.gate.critical_segment)")
    cand, ref = candidate.get("critical"), reference.get("critical")
    if cand is None or ref is None:
        return Check(name, False, "critical segment columns are not in the evaluation rows")
    selector = ", ".join(f"{k}={v}" for k, v in cand["selector"].items())
    c, r = cand["metrics"].get("missed_delay_rate"), ref["metrics"].get("missed_delay_rate")
    if not cand["sufficient"] or c is None or r is None:
        return Check(
            name, False, f"({selector}) insufficient data: {cand['rows']} rows, cannot verify"
        )
    passed = c <= r + gate.critical_missed_rate_tolerance
    detail = (
        f"({selector}) missed-delay rate {_num(c)} vs {_num(r)} "
        f"(change {c - r:+.4f}, allowed +{gate.critical_missed_rate_tolerance})"
    )
    return Check(name, passed, detail, c, r, gate.critical_missed_rate_tolerance)


def reviewed_cases(candidate: dict, gate: GateSettings) -> Check:
    """Zero misses among the late cases of the reviewed critical case set.

    An absolute demand, not a comparison: a reviewed late critical order the candidate
    would not flag (including one its contract rejects) is a miss.
    """
    name = "reviewed_cases"
    reviewed = candidate.get("reviewed")
    if reviewed is None:
        return Check(name, False, f"reviewed case set {gate.reviewed_cases} was not scored")
    if reviewed.get("error"):
        return Check(name, False, reviewed["error"])
    late, missed = reviewed["late"], reviewed["missed"]
    if late == 0:
        return Check(name, False, f"{reviewed['path']}: no late cases, cannot verify zero misses")
    detail = (
        f"{missed} of {late} late reviewed critical cases missed (allowed 0); "
        f"{reviewed['false_alarms']} of {reviewed['cases'] - late} on-time cases flagged"
    )
    if reviewed.get("missed_cases"):
        detail += "; missed: " + "; ".join(reviewed["missed_cases"][:3])
    if reviewed.get("in_training_period"):
        detail += f" ({reviewed['in_training_period']} cases fall in the training period)"
    return Check(name, missed == 0, detail, float(missed), None, 0.0)


def expected_cost(candidate: dict, reference: dict, gate: GateSettings) -> Check:
    """Expected cost per order no higher than the approved reference (plus tolerance)."""
    c = candidate["metrics"]["cost_per_order"]
    r = reference["metrics"]["cost_per_order"]
    limit = r * (1 + gate.cost_tolerance)
    change = (c - r) / r if r else 0.0
    detail = (
        f"cost per order {_num(c)} vs {_num(r)} ({change:+.2%}, allowed +{gate.cost_tolerance:.1%})"
    )
    return Check("expected_cost", c <= limit + 1e-12, detail, c, r, gate.cost_tolerance)


def top_bucket_calibration(candidate: dict, gate: GateSettings) -> Check:
    """The highest risk bucket's mean prediction stays close to what happens there."""
    top = candidate["top_bucket"]
    gap = top.get("gap")
    if gap is None:
        return Check("top_bucket_calibration", False, "no rows in the top risk bucket")
    detail = (
        f"top risk bucket predicts {_num(top['mean_predicted'])}, observed "
        f"{_num(top['observed_rate'])} (gap {gap:+.4f}, allowed ±{gate.top_bucket_tolerance})"
    )
    passed = abs(gap) <= gate.top_bucket_tolerance
    return Check("top_bucket_calibration", passed, detail, gap, None, gate.top_bucket_tolerance)


def slice_regressions(candidate: dict, reference: dict, gate: GateSettings) -> list[Check]:
    """Per segment: no cell's cost or ROC AUC regresses beyond its tolerance."""
    checks = []
    for segment, cells in candidate["slices"].items():
        ref_cells = {cell["value"]: cell for cell in reference["slices"].get(segment, [])}
        worse, compared, skipped = [], 0, 0
        for cell in cells:
            ref = ref_cells.get(cell["value"])
            if cell["status"] != "ok" or ref is None or ref["status"] != "ok":
                skipped += 1
                continue
            compared += 1
            c, r = cell["cost_per_order"], ref["cost_per_order"]
            if c > r * (1 + gate.slice_cost_tolerance) + 1e-12:
                worse.append(f"{cell['value']}: cost {_num(c)} vs {_num(r)}")
            ca, ra = cell.get("roc_auc"), ref.get("roc_auc")
            if ca is not None and ra is not None and ca < ra - gate.slice_auc_tolerance:
                worse.append(f"{cell['value']}: ROC AUC {_num(ca)} vs {_num(ra)}")
        detail = (
            f"{compared} cells compared, {skipped} insufficient"
            + (f"; regressed: {'; '.join(worse)}" if worse else "")
            + f" (allowed cost +{gate.slice_cost_tolerance:.0%}, AUC -{gate.slice_auc_tolerance})"
        )
        checks.append(Check(f"slice:{segment}", not worse, detail))
    return checks


def decide(candidate: dict, reference: dict, gate: GateSettings) -> tuple[str, list[Check]]:
    """Run every gate; SHIP only if all pass.

    With a reviewed case set configured, its zero-miss demand is the critical check: the
    population-wide missed-rate comparison would hold a model to a reference that flags
    nearly every critical order, whatever that costs (segment costs price those misses
    in the cost checks instead).
    """
    critical = (
        reviewed_cases(candidate, gate)
        if gate.reviewed_cases is not None
        else critical_missed_delay(candidate, reference, gate)
    )
    checks = [
        critical,
        expected_cost(candidate, reference, gate),
        top_bucket_calibration(candidate, gate),
        *slice_regressions(candidate, reference, gate),
    ]
    return (SHIP if all(c.passed for c in checks) else BLOCK), checks
