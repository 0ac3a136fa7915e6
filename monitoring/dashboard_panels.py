"""The dashboard's panels: what each plots, selected by ``WindowValue`` labels.

Panels name monitoring's checks (``health.null_rate``, ``drift.psi``, ...), never a feature:
a panel over a per-feature check draws one line per subject the history holds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from monitoring.dashboard_values import DECISION, DECISION_CODES, SEGMENT_QUALITY

if TYPE_CHECKING:
    from evidently.sdk.models import DashboardModel

METRIC = "WindowValue"  # Evidently's alias of monitoring.dashboard_metric.WindowValue
CODES = " · ".join(f"{code} {action}" for action, code in DECISION_CODES.items())
TITLES = (
    "Decision over time",
    "Null rate per feature",
    "PSI per feature",
    "Prediction drift: distance against its bootstrapped threshold",
    "Freshness lag per feature view (p95 age of served values, seconds)",
    "Estimated against realised cost per order",
    "Realised cost per order per segment (once labels arrive)",
)


def panels() -> DashboardModel:
    """One tab, one panel per title above, in that order."""
    from evidently.sdk.models import DashboardModel, DashboardTabModel, PanelMetric
    from evidently.sdk.panels import line_plot_panel

    def value(check: str, legend: str = "{{subject}}", **labels: str) -> PanelMetric:
        return PanelMetric(
            metric=METRIC, legend=legend, metric_labels={"check": check, "part": "value", **labels}
        )

    plots = [
        line_plot_panel(TITLES[0], [value(DECISION, "decision")], f"code: {CODES}"),
        line_plot_panel(TITLES[1], [value("health.null_rate")], size="half"),
        line_plot_panel(TITLES[2], [value("drift.psi")], size="half"),
        line_plot_panel(
            TITLES[3],
            [
                value("prediction_drift.wasserstein", "distance"),
                value("prediction_drift.bootstrap_quantile", "bootstrap threshold"),
                value("prediction_drift.threshold", "threshold used"),
            ],
            "Score distribution against the champion's reference scores; a signal, never an "
            "alarm alone",
            size="half",
        ),
        line_plot_panel(TITLES[4], [value("freshness.lag_p95_s")], size="half"),
        line_plot_panel(
            TITLES[5],
            [
                value("estimate.cost_per_order", "estimated from scores"),
                value("labels.all", "realised (labels)", subject="cost_per_order"),
                value("labels.expected", "expected by the reference", subject="cost_per_order"),
            ],
            size="half",
        ),
        line_plot_panel(TITLES[6], [value(f"{SEGMENT_QUALITY}.cost_per_order")], size="half"),
    ]
    tab = DashboardTabModel(title="Monitoring", panels=[plot.id for plot in plots])
    return DashboardModel(tabs=[tab], panels=plots)
