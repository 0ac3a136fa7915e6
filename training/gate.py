"""Run the release gate for a registered candidate on a frozen evaluation set.

The evaluation set is the **test split of the snapshot recorded with the candidate**
(hash-verified, re-split with the shares recorded in the candidate's bundle). Both models
score exactly the same rows: those every model's contract accepts. The reference is the
champion; with no champion yet, it is the logistic baseline fitted on the same snapshot's
train/validation splits, and the report says so.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from ontime.errors import OntimeError
from ontime.repo import load_contract
from ontime.settings import Settings
from training import registry
from training.evaluate import accepted_by, baseline_for, score_rows, snapshot_split
from training.gate_rules import GateReport, decide
from training.registry import LoadedModel
from training.reviewed import reviewed_summary
from training.snapshot import load_snapshot

log = logging.getLogger(__name__)


def _reference(settings: Settings, against: str) -> tuple[LoadedModel | None, list[str]]:
    if against == "baseline":
        return None, ["reference is the logistic baseline, as asked"]
    aliases = registry.alias_versions(settings)
    if against == registry.CHAMPION and registry.CHAMPION not in aliases:
        return None, ["no champion yet: compared against the logistic baseline instead"]
    version = registry.resolve_version(settings, against)
    return registry.load_version(
        settings, version, alias=against if against in aliases else None
    ), []


def _overlap_note(reference: LoadedModel, start: pd.Timestamp) -> str | None:
    seen_until = reference.bundle.metadata.get("validation_end")
    if seen_until and pd.Timestamp(seen_until) > start:
        return (
            f"the reference was fitted on data up to {seen_until}, after the evaluation "
            f"window starts ({start.isoformat()}); the comparison favours the reference"
        )
    return None


def run_gate(
    settings: Settings,
    candidate_ref: str,
    against: str = registry.CHAMPION,
    candidate: LoadedModel | None = None,
) -> GateReport:
    """Evaluate candidate and reference on the same frozen rows, decide, save the report.

    ``candidate`` is the already loaded (and verified) candidate, to save loading it twice.
    """
    if candidate is None:
        version = registry.resolve_version(settings, candidate_ref)
        candidate = registry.load_version(settings, version)
    reference, notes = _reference(settings, against)
    meta = candidate.bundle.metadata
    snapshot_id, recorded_hash = meta.get("snapshot_id"), meta.get("snapshot_hash")
    if not snapshot_id or not recorded_hash:
        raise OntimeError(f"v{candidate.version} records no snapshot and hash; cannot gate it")
    # The rows are hashed again and held against the model's record, not only the manifest.
    snapshot = load_snapshot(
        settings, snapshot_id, expected_hash=recorded_hash, recorded_by=f"v{candidate.version}"
    )
    split = snapshot_split(snapshot, candidate.bundle.metadata, settings)
    contract = load_contract(settings.feature_repo)
    label = snapshot.manifest.label
    bundles = [candidate.bundle] + ([reference.bundle] if reference else [])
    rows = split.test.loc[accepted_by(split.test, contract, bundles)].reset_index(drop=True)
    if rows.empty:
        raise OntimeError("no evaluation rows are accepted by both models' contracts")

    def score(bundle) -> dict:
        return score_rows(bundle, rows, contract, label, settings)

    cand_summary = score(candidate.bundle)
    cand_summary["reviewed"] = reviewed_summary(settings, candidate.bundle, contract)
    if reference is not None:
        ref_summary = score(reference.bundle)
        ref_info = {
            "name": reference.name,
            "version": reference.version,
            "kind": "model",
            "label": f"{reference.alias or 'version'} v{reference.version}",
        }
        if note := _overlap_note(reference, split.boundaries[1]):
            notes.append(note)
    else:
        # Cross-fitted on the same folds, calibrated and thresholded like the candidate.
        ref_summary = score(baseline_for(candidate.bundle, split, contract, settings))
        ref_info = {
            "name": "baseline",
            "version": None,
            "kind": "baseline",
            "label": "the logistic baseline",
        }
    decision, checks = decide(cand_summary, ref_summary, settings.training.gate)
    report = GateReport(
        decision=decision,
        candidate={
            "name": candidate.name,
            "version": candidate.version,
            "run_id": candidate.run_id,
        },
        reference=ref_info,
        evaluation={
            "snapshot_id": snapshot.id,
            "content_hash": snapshot.manifest.content_hash,
            "split": "test",
            "rows": len(rows),
            "from": split.boundaries[1].isoformat(),
        },
        checks=checks,
        notes=notes,
        created_at=datetime.now(tz=UTC).isoformat(),
    )
    report.evaluation["report_path"] = str(save_report(settings, report, cand_summary, ref_summary))
    return report


def save_report(settings: Settings, report: GateReport, candidate: dict, reference: dict) -> Path:
    """The gate report as JSON (with both summaries) under the report folder."""
    stamp = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%S%fZ")
    reference_tag = report.reference["version"] or "baseline"
    folder = settings.training.report_dir / report.candidate["name"] / "gates"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"v{report.candidate['version']}-vs-{reference_tag}-{stamp}.json"
    document = {**report.to_dict(), "summaries": {"candidate": candidate, "reference": reference}}
    path.write_text(json.dumps(document, indent=2, default=str))
    return path
