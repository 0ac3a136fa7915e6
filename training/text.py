"""Readable text for the training commands (the CLI only echoes these strings)."""

from __future__ import annotations

from training.report import HEADLINE


def _fmt(value) -> str:
    return "n/a" if value is None else (f"{value:.4f}" if isinstance(value, float) else str(value))


def evaluation_text(document: dict) -> str:
    """The verdict, model vs baseline on the test split, folds, calibration and slices."""
    model, baseline = document["model"], document["baseline"]
    comparison = document["comparison"]
    lines = [
        comparison.get("verdict", ""),
        f"test split: {document['rows']} rows ({document['rejected_by_contract']} rejected "
        "by the feature contract)",
        f"{'metric':<20}{'model':>10}{'baseline':>10}",
    ]
    lines = [line for line in lines if line]
    for name in HEADLINE:
        lines.append(
            f"{name:<20}{_fmt(model['metrics'].get(name)):>10}"
            f"{_fmt(baseline['metrics'].get(name)):>10}"
        )
    lines.append(
        f"ROC AUC gain over baseline {_fmt(comparison['roc_auc_gain'])}; "
        f"cost saving per order {_fmt(comparison['cost_saving_per_order'])}"
    )
    lines += rule_lines(model.get("decision_rule"), baseline.get("decision_rule"))
    lines += fold_lines(document.get("fitting") or {})
    lines.append("calibration by risk bucket (bucket rows mean_predicted observed gap):")
    for row in model["calibration_table"]:
        lines.append(
            f"  {int(row['bucket']):>2} {int(row['rows']):>7} {row['mean_predicted']:.4f} "
            f"{row['observed_rate']:.4f} {row['gap']:+.4f}"
        )
    critical = model.get("critical")
    if critical:
        selector = ", ".join(f"{k}={v}" for k, v in critical["selector"].items())
        lines.append(
            f"critical slice ({selector}): {critical['rows']} rows, missed-delay rate "
            f"{_fmt(critical['metrics'].get('missed_delay_rate'))}"
        )
    for segment, cells in model["slices"].items():
        parts = [
            f"{c['value']}={_fmt(c.get('cost_per_order'))}"
            if c["status"] == "ok"
            else f"{c['value']}=insufficient({c['rows']})"
            for c in cells
        ]
        lines.append(f"cost per order by {segment}: " + ", ".join(parts))
    return "\n".join(lines)


def history_text(entries: list[dict]) -> str:
    """One line per alias move."""
    if not entries:
        return "no alias moves recorded yet"
    lines = []
    for e in entries:
        gate = f" gate={e['gate']['decision']}" if e.get("gate") else ""
        lines.append(
            f"{e['at']}  {e['alias']:<10} {e['from'] or '-':>4} -> {e['to'] or '-':<4} "
            f"{e['action']:<13} by {e['who']}{gate}: {e['why']}"
        )
    return "\n".join(lines)


def rule_lines(model: dict | None, baseline: dict | None) -> list[str]:
    """The thresholds each model decides with (per segment value when costs differ)."""
    lines = []
    for who, rule in (("model", model), ("baseline", baseline)):
        if not rule:
            continue
        per_value = ", ".join(f"{k}={v:.4f}" for k, v in sorted(rule["values"].items()))
        by = f"; by {rule['column']}: {per_value}" if rule.get("column") else ""
        lines.append(f"{who} thresholds: default {rule['threshold']:.4f}{by}")
    return lines


def fold_lines(fitting: dict) -> list[str]:
    """One line per rolling-origin fold: sizes, base rate, stopping round, AUC and ECE."""
    folds = fitting.get("folds") or []
    if not folds:
        return []
    calibration = fitting.get("calibration") or {}
    lines = [
        f"rolling-origin folds (calibration {calibration.get('chosen', 'n/a')} fitted on "
        f"{calibration.get('fitted_on_rows', 'n/a')} held-out rows):",
        f"  {'fold':>4} {'fit':>8} {'holdout':>8} {'rate':>6} {'stop':>5} {'auc':>7} "
        f"{'ece_raw':>8} {'ece':>7} {'ece_fwd':>8}",
    ]
    for fold in folds:
        stop = fold.get("best_iteration")
        lines.append(
            f"  {fold['fold']:>4} {fold['fit_rows']:>8} {fold['holdout_rows']:>8} "
            f"{_fmt(fold.get('base_rate')):>6.6} {'-' if stop is None else stop + 1:>5} "
            f"{_fmt(fold.get('roc_auc')):>7} {_fmt(fold.get('ece_raw')):>8} "
            f"{_fmt(fold.get('ece')):>7} {_fmt(fold.get('ece_forward')):>8}"
        )
    return lines
