"""What one judged window shows on the dashboard: its history rows as labelled numbers.

Pure (no Evidently): ``monitoring.dashboard`` turns these points into a snapshot. A point is
labelled by the history's check and subject (a feature, a segment, or nothing) and by its
part: the value, or the threshold it was judged against.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from monitoring.decision import PRECEDENCE

# Ordered by severity, so the decision line rises when a window needs more: ok 0 ... block 5.
DECISION_CODES = {action: code for code, action in enumerate(reversed(PRECEDENCE))}
DECISION = "decision"
SEGMENT_QUALITY = "labels.segment"  # + "." + metric, subject "column=value"
SEGMENT_METRICS = ("cost_per_order", "precision", "recall")
# Metric subjects ending in these name a part of a check, not a subject of their own
# ("health.null_rate" / "carrier.threshold" is the threshold of carrier's null rate).
PARTS = ("threshold", "clean_baseline")


@dataclass(frozen=True)
class Point:
    check: str
    subject: str
    part: str  # "value", or one of PARTS
    value: float

    @property
    def key(self) -> str:
        """The point's row key in the frame its snapshot is computed from."""
        return f"{self.check}|{self.subject}|{self.part}"


def window_points(window: pd.Series, metrics: pd.DataFrame, slices: dict | None) -> list[Point]:
    """The decision, every metric row and, when given, per-segment realised quality.

    ``window`` is the window's row of the history's ``latest`` view and ``metrics`` its
    ``kind == "metric"`` rows (alarms and signals repeat a metric with its threshold, which
    the metric rows already hold); ``slices`` is the summary's ``labels.slices``.
    """
    points = [Point(DECISION, "", "value", float(DECISION_CODES.get(window["decision"], -1)))]
    for row in metrics[metrics["kind"] == "metric"].itertuples(index=False):
        if row.value is None or pd.isna(row.value):
            continue
        subject, _, part = str(row.subject).rpartition(".")
        if part not in PARTS:
            subject, part = str(row.subject), "value"
        points.append(Point(row.check_name, subject, part, float(row.value)))
    for column, cells in (slices or {}).items():
        for cell in cells:
            for metric in SEGMENT_METRICS:
                if cell.get(metric) is not None and cell.get("status") == "ok":
                    subject = f"{column}={cell['value']}"
                    points.append(Point(f"{SEGMENT_QUALITY}.{metric}", subject, "value",
                                        float(cell[metric])))  # fmt: skip
    return points
