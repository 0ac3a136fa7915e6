"""Write an evaluation as files: ``evaluation.json``, three PNG plots and ``index.html``."""

from __future__ import annotations

import html
import json
from pathlib import Path

from training import plots
from training.evaluate import Evaluation

HEADLINE = (
    "roc_auc",
    "pr_auc",
    "brier",
    "log_loss",
    "ece",
    "threshold",
    "precision",
    "recall",
    "missed_delay_rate",
    "flagged_rate",
    "cost_per_order",
)


def write_report(folder: Path, evaluation: Evaluation, header: dict, buckets: int) -> Path:
    """Compute-then-persist: the dict is complete before anything is written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    document = {**header, **evaluation.as_dict()}
    curves = {
        "model": evaluation.model_probabilities,
        "baseline": evaluation.baseline_probabilities,
    }
    images = [
        plots.calibration_curve(folder, evaluation.labels, curves, buckets),
        plots.pr_curve(folder, evaluation.labels, curves),
        plots.score_histogram(
            folder,
            evaluation.labels,
            evaluation.model_probabilities,
            evaluation.model["decision_rule"]["threshold"],
        ),
    ]
    (folder / "evaluation.json").write_text(json.dumps(document, indent=2, default=str))
    (folder / "index.html").write_text(_html(document, [p.name for p in images]))
    return folder


def _fmt(value) -> str:
    return f"{value:.4f}" if isinstance(value, float) else html.escape(str(value))


def _table(rows: list[dict], columns: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_fmt(row.get(c, ''))}</td>" for c in columns) + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _html(document: dict, images: list[str]) -> str:
    model, baseline = document["model"], document["baseline"]
    metrics = [
        {
            "metric": name,
            "model": model["metrics"].get(name),
            "baseline": baseline["metrics"].get(name),
        }
        for name in HEADLINE
    ]
    info = [{"field": k, "value": v} for k, v in document.items() if not isinstance(v, dict)]
    slices = [
        {"segment": segment, **cell} for segment, cells in model["slices"].items() for cell in cells
    ]
    slice_columns = [
        "segment",
        "value",
        "rows",
        "positives",
        "status",
        "roc_auc",
        "missed_delay_rate",
        "cost_per_order",
    ]
    bucket_columns = ["bucket", "rows", "p_low", "p_high", "mean_predicted", "observed_rate", "gap"]
    fitting = document.get("fitting") or {}
    fold_columns = [
        "fold", "fit_rows", "holdout_rows", "base_rate", "best_iteration", "roc_auc",
        "ece_raw", "ece", "ece_forward",
    ]  # fmt: skip
    rules = [
        {"model": who, "column": rule.get("column") or "-", "default": rule["threshold"],
         **{str(k): v for k, v in rule["values"].items()}}
        for who, rule in (("model", model.get("decision_rule")),
                          ("baseline", baseline.get("decision_rule")))
        if rule
    ]  # fmt: skip
    rule_columns = list(dict.fromkeys(key for row in rules for key in row))
    beats = document["comparison"].get("beats_baseline")
    colour = {True: "#e6f4ea", False: "#fce8e6"}.get(beats, "#eee")
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>ontime evaluation</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;"
        "margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}</style>"
        "</head><body><h1>Evaluation on the test split</h1>"
        f"<p style='background:{colour};padding:0.6em;font-size:1.2em'>"
        f"{html.escape(document['comparison'].get('verdict', ''))}</p>"
        + _table(info, ["field", "value"])
        + "<h2>Model vs baseline</h2>"
        + _table(metrics, ["metric", "model", "baseline"])
        + "".join(f"<img src='{name}' alt='{name}'>" for name in images)
        + "<h2>Decision thresholds</h2>"
        + _table(rules, rule_columns)
        + f"<h2>Rolling-origin folds (calibration "
        f"{html.escape(str((fitting.get('calibration') or {}).get('chosen', 'n/a')))})</h2>"
        + _table(fitting.get("folds") or [], fold_columns)
        + "<h2>Calibration by risk bucket</h2>"
        + _table(model["calibration_table"], bucket_columns)
        + "<h2>Slices</h2>"
        + _table(slices, slice_columns)
        + "</body></html>"
    )
