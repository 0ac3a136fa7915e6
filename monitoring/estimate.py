"""Quality estimated before the labels arrive (confidence-based, as NannyML's CBPE does).

The champion is calibrated, so its scores say how many of a window's orders should turn out
late, and from that the expected cost per order, precision and recall at the thresholds it
served with (``significance.expectations``, corrected per clock stratum like the label
verdict). The interval is the expectation widened to the clean windows' quantile of
standardised errors, the same width the label verdict uses, so once labels land the
realised value can be read against it.

What it cannot see: the estimate trusts the scores. When the relation between score and
outcome changes (a holiday surge makes orders late that look safe), the estimate stays
calm and only the labels tell. So an estimated cost rise is evidence for ``inspect`` (a
signal), never for ``retrain`` on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from monitoring.findings import Signal
from monitoring.limits import limit
from monitoring.profile import MonitoringProfile
from monitoring.reference import Reference
from monitoring.significance import METRICS, expectations
from monitoring.strata import main_group
from monitoring.verdict import corrected
from ontime.settings.monitoring import MonitoringSettings
from ontime.settings.training import CostMatrix

COST = "cost_per_order"


@dataclass
class Estimate:
    """Per metric: the estimate and its interval; the metrics to store; any signal."""

    table: dict[str, dict] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    signals: list[Signal] = field(default_factory=list)


def estimate(
    p: np.ndarray,
    threshold: np.ndarray,
    times: pd.Series,
    reference: Reference,
    profile: MonitoringProfile | None,
    checks: MonitoringSettings,
    costs: CostMatrix,
) -> Estimate:
    """The window's expected quality from its scores alone, with intervals."""
    result = Estimate()
    if len(p) == 0:
        return result
    group = main_group(times, checks.profile)
    found = expectations(p >= threshold, corrected(p, times, profile, checks), costs)
    for name in METRICS:
        mean, se = found[name]
        if mean is None:
            continue
        key = f"quality.{name}"
        width = limit(key, profile.quantile(key, group) if profile else None, checks)
        low, high = mean - width * se, mean + width * se
        result.table[name] = {"estimate": mean, "low": low, "high": high}
        result.metrics |= {f"estimate.{name}": mean, f"estimate.{name}_low": low,
                           f"estimate.{name}_high": high}  # fmt: skip
    tested = reference.test_metrics.get(COST)
    if COST in result.table and tested:
        bound = tested * (1 + checks.labels.max_cost_increase)
        low = result.table[COST]["low"]
        if low > bound:
            result.signals.append(
                Signal("estimated_cost", None, low, bound,
                       f"estimated cost per order {result.table[COST]['estimate']:.3f} (at "
                       f"least {low:.3f}) is above the test cost {tested:.3f} by more than "
                       f"{checks.labels.max_cost_increase:.0%}: the scores expect a costlier "
                       "window; labels will tell whether the model is wrong")
            )  # fmt: skip
    return result


def with_realised(table: dict[str, dict], intervals: dict[str, dict]) -> list[dict]:
    """Rows for the report: the estimate next to the realised value once labels landed."""
    rows = []
    for name, row in table.items():
        value = intervals.get(name, {}).get("value")
        inside = None if value is None else bool(row["low"] <= value <= row["high"])
        rows.append({"metric": name, **row, "realised": value, "inside": inside})
    return rows
