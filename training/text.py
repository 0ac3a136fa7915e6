"""Readable text for the training commands (the CLI only echoes these strings)."""

from __future__ import annotations

from training.report import HEADLINE


def _fmt(value) -> str:
    return "n/a" if value is None else (f"{value:.4f}" if isinstance(value, float) else str(value))


def evaluation_text(document: dict) -> str:
    """Model vs baseline on the test split, the calibration table and the slice cells."""
    model, baseline = document["model"], document["baseline"]
    lines = [
        f"{document['model'] if isinstance(document['model'], str) else ''}".strip(),
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
    comparison = document["comparison"]
    lines.append(
        f"ROC AUC gain over baseline {_fmt(comparison['roc_auc_gain'])}; "
        f"cost saving per order {_fmt(comparison['cost_saving_per_order'])}"
    )
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
