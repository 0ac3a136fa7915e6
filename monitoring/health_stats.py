"""Input-health statistics of one window of rows, shared by live checks and calibration.

The same functions measure a served window and every clean reference window of the
monitoring profile, so a threshold taken from the reference windows means the same thing as
the value it is compared with. Nothing here decides; ``monitoring.health`` judges.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from monitoring.schema import MonitoredFeature
from ontime.contract import STALE, UNSEEN
from ontime.settings.monitoring import HealthSettings
from serving.log_reader import FUTURE

# Age quantiles per segment are taken on at most this many rows (sampling error ~0.5%).
AGE_SAMPLE = 50_000

# Entity key -> (row codes, sorted values): the keys with few enough values to be segments.
Segments = dict[str, tuple[np.ndarray, pd.Index]]


@dataclass
class Statistic:
    """One measured statistic: ``check.feature`` is its profile key."""

    check: str  # "null_rate", "unseen_rate", "late_rate" or "segment_lag"
    feature: str
    value: float
    rows: int  # rows it was measured on
    enough: bool  # enough rows to judge
    detail: str = ""
    # segment lag only: "key=value" -> (excess, old share, rest's old share, old line in s,
    # fresh share, rest's fresh share, fresh line in s)
    segments: dict[str, tuple[float, ...]] = field(default_factory=dict)
    too_small: dict[str, int] = field(default_factory=dict)  # "key=value" -> rows

    @property
    def key(self) -> str:
        return f"{self.check}.{self.feature}"


@dataclass
class HealthArrays:
    """A frame's rows as the arrays the statistics read, prepared once.

    Calibration measures hundreds of overlapping windows of one reference period: each is
    a slice of these arrays, so no window pays for pandas again.
    """

    rows: int
    missing: dict[str, np.ndarray]  # feature -> absent or from the future
    unseen: dict[str, np.ndarray]  # categorical feature -> unseen in training
    unseen_values: dict[str, np.ndarray]  # categorical feature -> its values
    late: dict[str, np.ndarray]  # feature -> stale or older than its budget
    ages: dict[str, np.ndarray]  # feature -> age in seconds (NaN unknown)
    segments: Segments


def health_arrays(
    rows: pd.DataFrame,
    features: Sequence[MonitoredFeature],
    keys: Sequence[str],
    max_segments: int,
) -> HealthArrays:
    """Prepare ``rows`` for :func:`health_statistics`."""
    arrays = HealthArrays(len(rows), {}, {}, {}, {}, {}, segment_keys(rows, keys, max_segments))
    for feature in features:
        arrays.missing[feature.name] = missing(rows, feature)
        has_status = feature.status in rows.columns
        if feature.kind == "categorical" and has_status:
            arrays.unseen[feature.name] = (rows[feature.status] == UNSEEN).to_numpy()
            arrays.unseen_values[feature.name] = rows[feature.name].to_numpy()
        has_age = feature.age in rows.columns
        if has_age:
            arrays.ages[feature.name] = rows[feature.age].to_numpy(dtype="float64")
        if has_status or (feature.budget_s and has_age):
            late = np.zeros(len(rows), dtype=bool)
            if has_status:
                late |= (rows[feature.status] == STALE).to_numpy()
            if feature.budget_s and has_age:
                late |= np.nan_to_num(arrays.ages[feature.name], nan=0.0) > feature.budget_s
            arrays.late[feature.name] = late
    return arrays


def health_statistics(
    arrays: HealthArrays,
    features: Sequence[MonitoredFeature],
    settings: HealthSettings,
    window: slice = slice(None),
) -> list[Statistic]:
    """Null, unseen, late and segment-lag statistics of every feature on ``window`` rows."""
    n = len(range(arrays.rows)[window])
    enough = n >= settings.min_rows
    found = []
    for feature in features:
        name = feature.name
        found.append(Statistic("null_rate", name, _rate(arrays.missing[name][window]), n, enough))
        if name in arrays.unseen:
            unseen = arrays.unseen[name][window]
            top = _top(arrays.unseen_values[name][window][unseen])
            found.append(Statistic("unseen_rate", name, _rate(unseen), n, enough, top))
        if name in arrays.late:
            found.append(Statistic("late_rate", name, _rate(arrays.late[name][window]), n, enough))
        if name in arrays.ages and arrays.segments:
            found.append(_segment_lag(arrays.ages[name][window], arrays, window, feature, settings))
    return found


def _rate(flags: np.ndarray) -> float:
    return float(flags.mean()) if flags.size else 0.0


def _top(values: np.ndarray) -> str:
    """The (at most three) most common values, for a message."""
    if not values.size:
        return ""
    counts = pd.Series(values).astype(str).value_counts()
    return ", ".join(map(str, counts.index[:3]))


def missing(rows: pd.DataFrame, feature: MonitoredFeature) -> np.ndarray:
    """Rows whose value the model could not use: absent, or dated after the prediction
    (serving blanks a value from the future, so it counts as missing)."""
    absent = rows[feature.name].isna().to_numpy()
    if feature.status in rows.columns:
        absent = absent | (rows[feature.status] == FUTURE).to_numpy()
    return absent


def segment_keys(rows: pd.DataFrame, keys: Sequence[str], max_segments: int) -> Segments:
    """Entity keys with few enough values to be segments: key -> (codes, values)."""
    segments = {}
    for key in keys:
        if key not in rows.columns or rows[key].head(10_000).nunique() > max_segments:
            continue
        codes, values = _factorize(rows[key])
        if 1 < len(values) <= max_segments:
            segments[key] = (codes, values)
    return segments


def _factorize(column: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Codes and sorted values; a categorical is sorted by value, not by category order."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        column = column.cat.remove_unused_categories()
        column = column.cat.reorder_categories(sorted(column.cat.categories))
    return pd.factorize(column, sort=True)


def _segment_lag(
    ages: np.ndarray,
    arrays: HealthArrays,
    window: slice,
    feature: MonitoredFeature,
    settings: HealthSettings,
) -> Statistic:
    """The worst lag, over segments: a segment's excess share of values older than the other
    segments' age quantile, or its shortfall of values fresher than their low quantile
    (as a fraction of the fresh share the rest has), each less two standard errors (a lower
    bound: small segments are noisy).

    The "old" line is the quantile of the *other* segments, so a lagging segment is found
    however large its share of traffic. Quantiles use at most ``AGE_SAMPLE`` rows.
    """
    known = np.isfinite(ages)
    pick = _subsample(np.flatnonzero(known), AGE_SAMPLE)
    stat = Statistic("segment_lag", feature.name, 0.0, int(known.sum()), False)
    # Sorted once per window: each segment's "rest" is then a mask of one sorted array.
    order = np.argsort(ages[pick], kind="stable")
    sorted_ages = ages[pick][order]
    for key, (all_codes, values) in arrays.segments.items():
        sorted_codes = all_codes[window][pick][order]
        sizes = np.bincount(sorted_codes[sorted_codes >= 0], minlength=len(values))
        for index in np.flatnonzero(sizes):
            label = f"{key}={values[index]}"
            is_mine = sorted_codes == index
            mine, rest = sorted_ages[is_mine], sorted_ages[~is_mine & (sorted_codes >= 0)]
            if mine.size < settings.segment_min_rows or rest.size < settings.min_rows:
                stat.too_small[label] = int(mine.size)
                continue
            line = _sorted_quantile(rest, settings.segment_age_quantile)
            share, rest_share = float((mine > line).mean()), float((rest > line).mean())
            # A lagging feed also stops delivering fresh values: the segment's share of
            # values younger than the rest's low quantile falls short (seen within hours,
            # before old values pile up).
            fresh_line = _sorted_quantile(rest, 1.0 - settings.segment_age_quantile)
            fresh, rest_fresh = float((mine < fresh_line).mean()), float((rest < fresh_line).mean())
            # Two standard errors below the excess: a small segment's share is noisy, and
            # noise must not look like a lagging feed.
            older = share - rest_share - _noise(rest_share, mine.size)
            # The shortfall counts relative to the fresh share expected: a share below the
            # low quantile can fall by at most that share, so absolute it stays under the
            # floor on a day's first hours, when a stopped feed shows only here.
            staler = (rest_fresh - fresh - _noise(rest_fresh, mine.size)) / max(rest_fresh, 1e-9)
            excess = max(older, staler)
            stat.segments[label] = (excess, share, rest_share, line, fresh, rest_fresh, fresh_line)
    if stat.segments:
        stat.enough = True
        stat.value = max(excess for excess, *_ in stat.segments.values())
    return stat


def _noise(share: float, rows: int) -> float:
    """Two binomial standard errors of a share measured on ``rows`` rows."""
    return 2.0 * float(np.sqrt(share * (1.0 - share) / rows))


def _sorted_quantile(values: np.ndarray, q: float) -> float:
    """``np.quantile(values, q)`` (linear) of an already sorted array, without re-sorting."""
    position = q * (values.size - 1)
    low = int(np.floor(position))
    high = min(low + 1, values.size - 1)
    return float(values[low] + (values[high] - values[low]) * (position - low))


def _subsample(indices: np.ndarray, size: int) -> np.ndarray:
    """At most ``size`` of ``indices``, sorted, drawn with a fixed seed."""
    if indices.size <= size:
        return indices
    return np.sort(np.random.default_rng(0).choice(indices, size, replace=False))
