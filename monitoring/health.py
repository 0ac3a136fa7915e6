"""Input health: the fast alarms, computable from what was served at request time.

Null, unseen-category and late-value rates are judged as the excess over the reference
(the training snapshot), so a feature that is legitimately sometimes missing does not alarm.
Freshness has two views: values stale or older than their budget (the contract's max age,
else the view's TTL), and one segment of an entity key lagging behind the rest of the same
window (a partner's feed). Error rate and latency come from the serving logs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from monitoring.findings import Alarm
from monitoring.schema import MonitoredFeature
from ontime.contract import STALE, UNSEEN
from ontime.settings.monitoring import HealthSettings
from serving.log_reader import ERROR_KIND, LATENCY_MS

# Age quantiles per segment are taken on at most this many rows (sampling error ~0.5%).
AGE_SAMPLE = 50_000

# Entity key -> (row codes, sorted values): the keys with few enough values to be segments.
Segments = dict[str, tuple[np.ndarray, pd.Index]]


@dataclass
class HealthResult:
    """Input-health metrics by name and the alarms they raised."""

    metrics: dict[str, float] = field(default_factory=dict)
    alarms: list[Alarm] = field(default_factory=list)


def input_health(
    served: pd.DataFrame,
    errors: pd.DataFrame,
    reference: pd.DataFrame,
    features: Sequence[MonitoredFeature],
    settings: HealthSettings,
    keys: Sequence[str] = (),
) -> HealthResult:
    """Per-feature null, unseen and freshness rates plus service error rate and latency.

    ``keys`` are the entity keys; those with few values are segments for the freshness check.
    """
    result = HealthResult()
    segments = segment_keys(served, keys, settings.max_segments)
    rows = len(served)
    result.metrics["health.rows"] = float(rows)
    for feature in features:
        _null_rate(served, reference, feature, settings, result)
        if feature.kind == "categorical":
            _unseen_rate(served, feature, settings, result)
        _freshness(served, reference, feature, segments, settings, result)
    _errors_and_latency(served, errors, settings, result)
    return result


def _check(
    result: HealthResult,
    check: str,
    feature: str | None,
    value: float,
    limit: float,
    enough: bool,
    message: str,
) -> None:
    """Raise a health alarm when there were ``enough`` rows to judge and ``value`` > ``limit``."""
    if enough and value > limit:
        result.alarms.append(Alarm("health", check, feature, value, limit, message))


def _null_rate(
    served: pd.DataFrame,
    reference: pd.DataFrame,
    feature: MonitoredFeature,
    settings: HealthSettings,
    result: HealthResult,
) -> None:
    """Nulls beyond the reference's own null rate."""
    rate = float(served[feature.name].isna().mean()) if len(served) else 0.0
    expected = float(reference[feature.name].isna().mean())
    excess = rate - expected
    result.metrics[f"health.null_rate.{feature.name}"] = rate
    result.metrics[f"health.null_rate_reference.{feature.name}"] = expected
    _check(
        result,
        "null_rate",
        feature.name,
        excess,
        settings.null_rate_excess,
        len(served) >= settings.min_rows,
        f"{feature.name} is null in {rate:.1%} of served rows "
        f"(reference {expected:.1%}, excess {excess:.1%})",
    )


def _unseen_rate(
    served: pd.DataFrame, feature: MonitoredFeature, settings: HealthSettings, result: HealthResult
) -> None:
    """Categories serving marked unseen in training, with the most common ones named."""
    if feature.status not in served.columns:
        return
    rate = float((served[feature.status] == UNSEEN).mean()) if len(served) else 0.0
    result.metrics[f"health.unseen_rate.{feature.name}"] = rate
    unseen = served.loc[served[feature.status] == UNSEEN, feature.name]
    counts = unseen.value_counts()  # a categorical also counts its absent categories
    top = ", ".join(map(str, counts[counts > 0].index[:3]))
    _check(
        result,
        "unseen_category",
        feature.name,
        rate,
        settings.unseen_rate_excess,
        len(served) >= settings.min_rows,
        f"{feature.name} has values unseen in training in {rate:.1%} of served rows ({top})",
    )


def _freshness(
    served: pd.DataFrame,
    reference: pd.DataFrame,
    feature: MonitoredFeature,
    segments: Segments,
    settings: HealthSettings,
    result: HealthResult,
) -> None:
    """Late values: marked stale by serving or older than the budget; lagging segments."""
    enough = len(served) >= settings.min_rows
    has_status = feature.status in served.columns
    stale = (served[feature.status] == STALE).to_numpy() if has_status else np.zeros(len(served))
    late = stale.astype(bool)
    if feature.age in served.columns:
        ages = served[feature.age].to_numpy(dtype="float64")
        known = ages[np.isfinite(ages)]
        if known.size:
            result.metrics[f"health.age_p95_s.{feature.name}"] = float(np.quantile(known, 0.95))
        if feature.budget_s:
            late = late | (np.nan_to_num(ages, nan=0.0) > feature.budget_s)
        _segment_lag(ages, segments, feature, settings, result)
    rate = float(late.mean()) if len(served) else 0.0
    expected = 0.0
    if feature.budget_s and feature.age in reference.columns:
        expected = float((reference[feature.age].fillna(0.0) > feature.budget_s).mean())
    result.metrics[f"health.late_rate.{feature.name}"] = rate
    budget = f"{feature.budget_s / 3600:g} h" if feature.budget_s else "none"
    _check(
        result,
        "freshness",
        feature.name,
        rate - expected,
        settings.late_rate_excess,
        enough,
        f"{feature.name} is stale or older than its budget ({budget}) in {rate:.1%} of "
        f"served rows (reference {expected:.1%})",
    )


def segment_keys(served: pd.DataFrame, keys: Sequence[str], max_segments: int) -> Segments:
    """Entity keys with few enough values to be segments: key -> (codes, values)."""
    segments = {}
    for key in keys:
        if key not in served.columns or served[key].head(10_000).nunique() > max_segments:
            continue
        codes, values = _factorize(served[key])
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
    segments: Segments,
    feature: MonitoredFeature,
    settings: HealthSettings,
    result: HealthResult,
) -> None:
    """Alarm when one segment's values are much older than the rest of the same window.

    The "old" line is the age quantile of the *other* segments, so a lagging segment is
    found however large its share of traffic. Quantiles use at most ``AGE_SAMPLE`` rows.
    """
    known = np.isfinite(ages)
    if known.sum() < settings.min_rows:
        return
    pick = _subsample(np.flatnonzero(known), AGE_SAMPLE)
    worst = 0.0
    for key, (codes, values) in segments.items():
        sampled_codes, sampled_ages = codes[pick], ages[pick]
        for index, value in enumerate(values):
            mine = sampled_ages[sampled_codes == index]
            rest = sampled_ages[(sampled_codes != index) & (sampled_codes >= 0)]
            if mine.size < settings.min_rows or rest.size < settings.min_rows:
                continue
            line = float(np.quantile(rest, settings.segment_age_quantile))
            share, rest_share = float((mine > line).mean()), float((rest > line).mean())
            worst = max(worst, share - rest_share)
            _check(
                result,
                "freshness",
                feature.name,
                share - rest_share,
                settings.segment_age_excess,
                True,
                f"{feature.name} for {key}={value} is older than the other {key} values' "
                f"p{settings.segment_age_quantile * 100:g} age ({line / 3600:.1f} h) in "
                f"{share:.0%} of its rows, against {rest_share:.0%} for the rest",
            )
    result.metrics[f"health.segment_age_excess.{feature.name}"] = worst


def _subsample(indices: np.ndarray, size: int) -> np.ndarray:
    """At most ``size`` of ``indices``, sorted, drawn with a fixed seed."""
    if indices.size <= size:
        return indices
    return np.sort(np.random.default_rng(0).choice(indices, size, replace=False))


def _errors_and_latency(
    served: pd.DataFrame, errors: pd.DataFrame, settings: HealthSettings, result: HealthResult
) -> None:
    """Share of failed requests (by kind) and p95 latency over answers and errors."""
    failed = len(errors)
    total = len(served) + failed
    rate = failed / total if total else 0.0
    result.metrics["health.errors"] = float(failed)
    result.metrics["health.error_rate"] = rate
    if failed and ERROR_KIND in errors.columns:
        for kind, count in errors[ERROR_KIND].value_counts().items():
            result.metrics[f"health.errors_by_kind.{kind}"] = float(count)
    _check(
        result,
        "error_rate",
        None,
        rate,
        settings.error_rate,
        total >= settings.min_rows,
        f"{rate:.1%} of requests failed ({failed} of {total})",
    )
    latencies = [
        frame[LATENCY_MS].to_numpy(dtype="float64")
        for frame in (served, errors)
        if LATENCY_MS in frame.columns and len(frame)
    ]
    if latencies:
        p95 = float(np.nanquantile(np.concatenate(latencies), 0.95))
        result.metrics["health.latency_p95_ms"] = p95
        _check(
            result,
            "latency",
            None,
            p95,
            settings.latency_p95_ms,
            total >= settings.min_rows,
            f"p95 latency is {p95:.0f} ms",
        )
