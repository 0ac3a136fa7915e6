"""Freshness per feature view: how old the served values of each view were, against the
view's freshness SLA.

A view's lag in one served row is the age of its oldest feature there (a view is written as
one row, so its features age together unless one is missing). Serving counts SLA breaches
per request (``ontime_freshness_sla_breaches_total``); here the window's share of rows past
the SLA is judged: beyond ``breach_rate`` the alarm names the view. It asks for ``inspect``:
values past an SLA are late, not wrong, and the contract's own age limits already block
values too old to use.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from monitoring.findings import Alarm
from ontime.repo import ServiceSpec, freshness_slas


@dataclass
class ViewFreshness:
    metrics: dict[str, float] = field(default_factory=dict)
    alarms: list[Alarm] = field(default_factory=list)


def view_freshness(
    served: pd.DataFrame, spec: ServiceSpec, overrides: dict[str, str], breach_rate: float
) -> ViewFreshness:
    """Each view's p95 served lag and, where it has an SLA, its share of rows past it."""
    result = ViewFreshness()
    slas = freshness_slas(spec, overrides)
    by_view: dict[str, list[str]] = {}
    for feature in spec.features:
        if f"{feature}__age_s" in served.columns and feature in spec.views:
            by_view.setdefault(spec.views[feature], []).append(f"{feature}__age_s")
    for view, columns in by_view.items():
        # numpy, not DataFrame.max(axis=1): 7x faster on the million-row windows
        ages = np.fmax.reduce(served[columns].to_numpy(dtype="float64"), axis=1)
        ages = ages[~np.isnan(ages)]
        if len(ages) == 0:
            continue
        result.metrics[f"freshness.lag_p95_s.{view}"] = float(np.quantile(ages, 0.95))
        if view not in slas:
            continue
        late = float(np.mean(ages > slas[view]))
        result.metrics[f"freshness.sla_breach_rate.{view}"] = late
        if late > breach_rate:
            message = (
                f"view {view}: {late:.1%} of served rows older than its freshness SLA "
                f"{_duration(slas[view])} (tolerance {breach_rate:.1%})"
            )
            result.alarms.append(
                Alarm("health", "freshness_sla", view, late, breach_rate, message, "inspect")
            )
    return result


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:.0f}s"
