"""``WindowValue``: an Evidently metric that reports one of ontime's own numbers.

Evidently's dashboard plots metric results of snapshots over time. ontime's numbers (the
decision, freshness, estimated and realised cost, prediction drift against its bootstrapped
threshold, ...) are computed by monitoring, not by Evidently, so this metric only reads its
number from the window's frame of points (key, value). Its fields become the labels a panel
selects by: ``check`` and ``subject`` as in the metric history, ``part`` "value" or
"threshold".
Imported only by ``monitoring.dashboard``, after Evidently (its import takes seconds).
"""

from __future__ import annotations

from evidently.core.metric_types import SingleValue, SingleValueCalculation, SingleValueMetric


class WindowValue(SingleValueMetric):
    check: str
    subject: str = ""
    part: str = "value"


class WindowValueCalculation(SingleValueCalculation[WindowValue]):
    def calculate(self, context, current_data, reference_data) -> SingleValue:
        metric = self.metric
        key = f"{metric.check}|{metric.subject}|{metric.part}"  # dashboard_values.Point.key
        frame = current_data.as_dataframe()
        return self.result(float(frame.loc[frame["key"] == key, "value"].iloc[0]))

    def display_name(self) -> str:
        metric = self.metric
        return " ".join(part for part in (metric.check, metric.subject, metric.part) if part)
