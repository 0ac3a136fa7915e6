"""Unseen categories by evidence, not by a fixed share or a fixed row count.

A new category (a carrier onboarded this morning) starts small: in its first hours a window
may hold a handful of its rows, a share below the blocking margin and, at night, fewer rows
than the rate check's minimum. Yet when the clean reference never held that many unseen
values, a handful is evidence. A window's unseen share is significant when its one-sided
Clopper-Pearson lower bound (at the profile's quantile level) is above the clean baseline:
the largest share of any clean window, and the upper bound of the pooled clean share. With
no unseen value in 12,000 clean rows, one unseen value in a 300-row window is not enough,
two are: the larger the clean reference, the less it takes. Significant
asks for ``inspect``; only a share beyond the clean quantile plus the configured margin is
a hard input failure that blocks (``monitoring.limits``).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from scipy.stats import beta

from monitoring.profile import MonitoringProfile


def share_lower_bound(count: int, rows: int, confidence: float) -> float:
    """One-sided lower confidence bound of a share of ``count`` in ``rows``."""
    if count <= 0 or rows <= 0:
        return 0.0
    return float(beta.ppf(1.0 - confidence, count, rows - count + 1))


def share_upper_bound(count: int, rows: int, confidence: float) -> float:
    """One-sided upper confidence bound of a share of ``count`` in ``rows``."""
    if rows <= 0 or count >= rows:
        return 1.0
    return float(beta.ppf(confidence, count + 1, rows - count))


def clean_baseline(profile: MonitoringProfile | None, key: str, confidence: float) -> float:
    """The unseen share a clean window can reach (zero without a profile: training defines
    the categories, so its own rows have none unseen)."""
    if profile is None or key not in profile.values:
        return 0.0
    return baseline_of(profile.values[key], profile.window_rows, stride(profile), confidence)


def baseline_of(
    values: Sequence[float | None], rows: Sequence[int], every: int, confidence: float
) -> float:
    """The clean windows' largest share, and the upper bound of the share pooled over
    every ``every``-th window (disjoint windows, so no row is counted twice)."""
    known = [v for v in values if v is not None]
    if not known:
        return 0.0
    largest = float(max(known))
    if len(rows) != len(values):
        return largest
    picked = [(v, n) for v, n in zip(values[::every], rows[::every], strict=True) if v is not None]
    total = int(sum(n for _, n in picked))
    count = round(sum(v * n for v, n in picked))
    return max(largest, share_upper_bound(count, total, confidence))


def stride(profile: MonitoringProfile) -> int:
    """Windows from one to the next that does not overlap it (length over step)."""
    if profile.windows < 2:
        return 1
    first, second = (pd.Timestamp(start) for start in profile.window_starts[:2])
    step_s = (second - first).total_seconds()
    return max(1, round(profile.window_hours * 3600 / step_s)) if step_s > 0 else 1


def significant_unseen(
    count: int, rows: int, baseline: float, confidence: float
) -> tuple[bool, float]:
    """Whether ``count`` unseen values in ``rows`` are more than a clean window holds, and
    the share's lower bound."""
    low = share_lower_bound(count, rows, confidence)
    return low > baseline, low
