"""The backtest: each check's false-alarm rate on the profile's clean windows, out of sample.

The clean windows are cut into ``BACKTEST_BLOCKS`` blocks of consecutive days; each block is
judged with thresholds from the other blocks' quantiles (``monitoring.limits``, the rule the
live checks use), so the rate printed by ``ontime monitor calibrate`` is the rate of the
thresholds a monitored window meets.
"""

from __future__ import annotations

import numpy as np

from monitoring.limits import check_of, limit
from monitoring.profile import MonitoringProfile, clean_quantile
from monitoring.unseen import baseline_of, significant_unseen, stride
from ontime.settings.monitoring import MonitoringSettings

BACKTEST_BLOCKS = 5
ANY = "any"  # the backtest's key for "some check alarmed on this window"


def backtest(profile: MonitoringProfile, settings: MonitoringSettings) -> dict[str, float]:
    """Each check's false-alarm rate on the clean windows, out of sample.

    The windows are cut into ``BACKTEST_BLOCKS`` blocks of consecutive days; each block is
    judged with thresholds from the quantiles of the other blocks (among windows of the
    same day group when enough of them remain, as live windows are judged). ``any`` is the share of
    windows on which at least one check alarmed. A quality check counts where the window
    was significantly and materially worse, as a retrain needs.
    """
    n = profile.windows
    if n < BACKTEST_BLOCKS:
        return {}
    block = np.arange(n) * BACKTEST_BLOCKS // n
    alarms = np.zeros(n, dtype=bool)
    rates: dict[str, float] = {}
    retrain_on = {f"quality.{name}" for name in settings.labels.retrain_on}
    for key, column in profile.values.items():
        known = np.array([v is not None for v in column])
        value = np.array([np.nan if v is None else v for v in column], dtype="float64")
        fired = np.zeros(n, dtype=bool)
        groups = np.asarray(profile.window_groups)
        days = profile.window_days
        for held in range(BACKTEST_BLOCKS):
            train = known & (block != held)
            if not train.any():
                continue
            kept = [v if t else None for v, t in zip(column, train, strict=True)]
            for group in np.unique(groups[known & (block == held)]):
                quantile = clean_quantile(
                    key, kept, groups, days, int(group),
                    settings.profile.quantile, settings.profile.min_windows,
                )  # fmt: skip
                test = known & (block == held) & (groups == group)
                fired[test] = value[test] > limit(check_of(key), quantile, settings)
            if check_of(key) == "unseen_rate":
                fired |= _new_values(profile, key, value, known & (block != held), block == held)
        if key in profile.material:  # a quality alarm also needs a material change
            fired &= np.asarray(profile.material[key], dtype=bool)
        if known.any():
            rates[key] = float(fired[known].mean())
        if not key.startswith("quality.") or key in retrain_on:  # the others decide nothing
            alarms |= fired
    rates[ANY] = float(alarms.mean())
    return rates


def _new_values(
    profile: MonitoringProfile, key: str, value: np.ndarray, train: np.ndarray, test: np.ndarray
) -> np.ndarray:
    """Held-out windows whose unseen values the other blocks call significant (the
    ``inspect`` alarm of ``monitoring.unseen``)."""
    fired = np.zeros(len(value), dtype=bool)
    rows = np.asarray(profile.window_rows)
    if rows.size != value.size or not train.any():
        return fired
    level = profile.quantile_level
    kept = [v if kept else None for v, kept in zip(value.tolist(), train, strict=True)]
    baseline = baseline_of(kept, rows.tolist(), stride(profile), level)
    for index in np.flatnonzero(test & np.isfinite(value)):
        count = round(value[index] * rows[index])
        fired[index] = significant_unseen(count, int(rows[index]), baseline, level)[0]
    return fired
