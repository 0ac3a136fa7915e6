"""Persist a computed run: ``summary.json``, detail JSON, Evidently HTML and an overview page.

Nothing is computed here beyond drawing: the run is finished before anything is written.
"""

from __future__ import annotations

import html
import json
from datetime import datetime
from pathlib import Path

import numpy as np

from monitoring import evidently_reports, svg
from monitoring.summary import Summary

SUMMARY_FILE = "summary.json"
SLICE_COLUMNS = ["segment", "value", "rows", "status", "precision", "recall", "cost_per_order"]
OVERVIEW_FILE = "overview.html"
INTERVAL_COLUMNS = ["metric", "value", "expected", "low", "high", "z", "significant", "material"]


def write_reports(
    summary: Summary,
    folder: Path,
    *,
    scores: np.ndarray,
    validation_scores: np.ndarray,
    drift_run: evidently_reports.DriftRun | None,
    parity_run: evidently_reports.DriftRun | None,
    timeline: list[tuple[str, str]] = (),
) -> Path:
    """Write every report of the run into ``folder``; returns the summary path.

    ``timeline`` is the (window name, decision) of earlier windows of the same length, oldest
    first, drawn as a strip of links above the decision.
    """
    folder.mkdir(parents=True, exist_ok=True)
    if drift_run is not None:
        summary.reports["drift_html"] = evidently_reports.save_html(
            drift_run, folder / "drift.html"
        ).name
        summary.reports["drift_evidently_json"] = evidently_reports.save_json(
            drift_run, folder / "drift_evidently.json"
        ).name
    if parity_run is not None:
        summary.reports["parity_html"] = evidently_reports.save_html(
            parity_run, folder / "parity.html"
        ).name
    summary.reports["overview_html"] = OVERVIEW_FILE
    summary.reports["summary_json"] = SUMMARY_FILE
    page = _overview(summary, scores, validation_scores, list(timeline))
    (folder / OVERVIEW_FILE).write_text(page)
    path = folder / SUMMARY_FILE
    path.write_text(json.dumps(summary.to_dict(), indent=2, default=str))
    return path


def score_plot(scores: np.ndarray, validation_scores: np.ndarray) -> str:
    """Score histogram of the window against the validation scores, as inline SVG."""
    return svg.histograms({"validation (reference)": validation_scores, "this window": scores})


def calibration_plot(calibration: list[dict]) -> str | None:
    """Observed rate against mean score per risk bucket (sufficient buckets only)."""
    points = [row for row in calibration if row.get("status") == "ok"]
    if not points:
        return None
    return svg.calibration(
        [row["mean_predicted"] for row in points], [row["observed_rate"] for row in points]
    )


def _table(rows: list[dict], columns: list[str]) -> str:
    """An HTML table of ``columns`` of each row (missing cells shown as a dash)."""
    if not rows:
        return "<p>none</p>"
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(row.get(c)))}</td>" for c in columns) + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _fmt(value: object) -> str:
    """A table cell: a dash for missing, four significant digits for floats."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _thresholds(profile: dict) -> str:
    """Where the window's thresholds came from, in one sentence."""
    if not profile.get("calibrated"):
        return "thresholds: the configured ones (no monitoring profile)"
    rate = profile.get("false_alarm_rates", {}).get("any")
    measured = (
        f"; any-check false-alarm rate in the backtest {rate:.1%}" if rate is not None else ""
    )
    return (
        f"thresholds: monitoring profile of v{profile['model_version']}, "
        f"{profile['clean_windows']} clean {profile['window_hours']:g}-hour windows{measured}"
    )


def neighbours(start: datetime, end: datetime) -> tuple[str, str]:
    """Folder names of the windows of the same length just before and just after."""
    length = end - start
    name = "{:%Y%m%dT%H%MZ}_{:%Y%m%dT%H%MZ}".format
    return name(start - length, start), name(end, end + length)


def _timeline(summary: Summary, earlier: list[tuple[str, str]]) -> str:
    """The last decisions as a strip of linked cells, this window last; then prev/next."""
    start, end = (datetime.fromisoformat(summary.window[k]) for k in ("start", "end"))
    before, after = neighbours(start, end)
    cells = [*earlier, (summary.window["name"], summary.action)]
    strip = "".join(
        f'<a class="cell {html.escape(action)}" href="../{html.escape(name)}/{OVERVIEW_FILE}" '
        f'title="{html.escape(name)}: {html.escape(action)}">{html.escape(action[:1])}</a>'
        for name, action in cells
    )
    return (
        f'<nav class="timeline">{strip}</nav><p><a href="../{before}/{OVERVIEW_FILE}">'
        f'&larr; previous window</a> · <a href="../{after}/{OVERVIEW_FILE}">next window '
        "&rarr;</a></p>"
    )


def _overview(
    summary: Summary,
    scores: np.ndarray,
    validation_scores: np.ndarray,
    timeline: list[tuple[str, str]] | None = None,
) -> str:
    """The one self-contained overview page: decision, alarms, signals, charts, tables."""
    decision = summary.decision
    links = " · ".join(
        f'<a href="{html.escape(f)}">{html.escape(n)}</a>' for n, f in summary.reports.items()
    )
    calibration = calibration_plot(summary.labels.get("calibration", []))
    calibration_html = calibration or "<p>not enough labels for a calibration plot</p>"
    sections = [
        f"<h1>ontime monitor {html.escape(summary.window['name'])}</h1>",
        f"<p>model {html.escape(summary.model.get('name', ''))} "
        f"v{html.escape(summary.model.get('version', ''))}, FeatureService "
        f"{html.escape(summary.model.get('feature_service', ''))}</p>",
        _timeline(summary, timeline or []),
        f'<h2 class="{decision.action}">decision: {decision.action}</h2>',
        f"<p>{html.escape(decision.reason)}</p>",
        "".join(f"<p class='note'>{html.escape(n)}</p>" for n in summary.notes),
        "<h2>checks not run (too few rows)</h2>",
        _table(summary.not_run, ["check", "feature", "segment", "rows", "needed", "status"]),
        f"<p>{html.escape(_thresholds(summary.profile))}</p>",
        "<h2>alarms</h2>",
        _table(
            [a.to_dict() for a in summary.alarms],
            ["area", "check", "feature", "value", "threshold", "message"],
        ),
        "<h2>signals (drift: look, do not act on it alone)</h2>",
        _table([s.to_dict() for s in summary.signals], ["check", "feature", "value", "message"]),
        "<h2>scores against the reference</h2>",
        score_plot(scores, validation_scores),
        "<h2>quality estimated from the scores (before labels)</h2>",
        "<p>The scores' own expectation, with the interval labels are judged against. It "
        "trusts the scores: when outcomes change while scores do not, only labels show it.</p>",
        _table(summary.estimates, ["metric", "estimate", "low", "high", "realised", "inside"]),
        "<h2>delayed labels</h2>",
        f"<p>coverage {summary.labels.get('coverage', 0):.1%}. "
        f"{html.escape(summary.labels.get('note', ''))}</p>",
        "<h3>against what the reference predicts for this window's rows</h3>",
        _table(
            [
                {"metric": name, **band}
                for name, band in summary.labels.get("intervals", {}).items()
            ],
            INTERVAL_COLUMNS,
        ),
        _table([{"segment": "all", **summary.labels.get("aggregate", {})}], SLICE_COLUMNS),
        *(
            _table([{"segment": name, **cell} for cell in cells], SLICE_COLUMNS)
            for name, cells in summary.labels.get("slices", {}).items()
        ),
        "<h3>calibration by risk bucket</h3>",
        calibration_html,
        _table(
            summary.labels.get("calibration", []),
            ["bucket", "rows", "status", "p_low", "p_high", "mean_predicted", "observed_rate"],
        ),
        "<h2>feature drift</h2>",
        _table(
            summary.drift,
            ["feature", "psi", "missing_rate_reference", "missing_rate_current", "score"],
        ),
        f"<p>{links}</p>",
    ]
    style = (
        "body{font-family:sans-serif;max-width:1000px;margin:2em auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px}"
        ".block,.repair_parity,.rollback{color:#b00}.retrain,.inspect{color:#a60}.ok{color:#070}"
        ".timeline .cell{display:inline-block;width:1.4em;text-align:center;margin:1px;"
        "color:#fff;text-decoration:none;background:#070}.timeline .inspect,.timeline .retrain"
        "{background:#a60}.timeline .block,.timeline .repair_parity,.timeline .rollback"
        "{background:#b00}"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>ontime monitor</title>"
        f"<style>{style}</style></head><body>{''.join(sections)}</body></html>"
    )
