"""Input health: the fast alarms, computable from what was served at request time.

Each statistic (``monitoring.health_stats``) is judged against its clean-window range in
the model's monitoring profile: an alarm needs the window beyond the range's quantile by a
margin (``monitoring.limits``). Without a profile value, a rate is judged as its excess over
the reference rows' own rate. Null, unseen and late values are hard input failures and
block; one segment lagging the rest (values still within their budget) asks for a look, as
do unseen values that are too few to block but more than any clean window holds.
Error rate and latency come from the serving logs. A check, or a segment of one, with too
few rows is reported as not run, never skipped silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from monitoring.findings import Alarm, NotRun
from monitoring.health_stats import Statistic, health_arrays, health_statistics, missing
from monitoring.limits import limit
from monitoring.profile import MonitoringProfile
from monitoring.schema import MonitoredFeature
from monitoring.strata import main_group
from monitoring.unseen import clean_baseline, significant_unseen
from ontime.contract import STALE
from ontime.settings.monitoring import HealthSettings, MonitoringSettings
from serving.log_reader import ERROR_KIND, LATENCY_MS, PREDICTION_TIME

# The alarm name each statistic raises (names the summary has always used).
ALARM_CHECK = {
    "null_rate": "null_rate",
    "unseen_rate": "unseen_category",
    "late_rate": "freshness",
    "segment_lag": "freshness",
}


@dataclass
class HealthResult:
    """Input-health metrics by name, the alarms they raised, and what could not be judged."""

    metrics: dict[str, float] = field(default_factory=dict)
    alarms: list[Alarm] = field(default_factory=list)
    not_run: list[NotRun] = field(default_factory=list)


def input_health(
    served: pd.DataFrame,
    errors: pd.DataFrame,
    reference: pd.DataFrame,
    features: Sequence[MonitoredFeature],
    checks: MonitoringSettings,
    keys: Sequence[str] = (),
    profile: MonitoringProfile | None = None,
) -> HealthResult:
    """Per-feature null, unseen, late and segment-lag checks plus error rate and latency.

    ``reference`` (training rows) gives the fallback rates; ``keys`` are the entity keys,
    those with few values are segments for the lag check.
    """
    settings = checks.health
    result = HealthResult()
    result.metrics["health.rows"] = float(len(served))
    arrays = health_arrays(served, features, keys, settings.max_segments)
    group = None
    if profile is not None and PREDICTION_TIME in served.columns:
        group = main_group(served[PREDICTION_TIME], checks.profile)
    for stat in health_statistics(arrays, features, settings):
        feature = next(f for f in features if f.name == stat.feature)
        quantile = profile.quantile(stat.key, group) if profile else None
        if quantile is None:
            quantile = _reference_rate(stat.check, reference, feature)
        line = limit(stat.check, quantile, checks)
        result.metrics[f"health.{stat.key}"] = stat.value
        result.metrics[f"health.{stat.key}.threshold"] = line
        if stat.check == "unseen_rate" and not (stat.enough and stat.value > line):
            baseline = clean_baseline(profile, stat.key, checks.profile.quantile)
            result.metrics[f"health.{stat.key}.clean_baseline"] = baseline
            if _new_values(stat, baseline, checks.profile.quantile, result):
                continue
        _judge(stat, feature, line, settings, result)
    _errors_and_latency(served, errors, checks, result)
    return result


def _reference_rate(check: str, reference: pd.DataFrame, feature: MonitoredFeature) -> float | None:
    """The training rows' own rate, for a statistic the profile has no value of."""
    if check == "null_rate" and feature.name in reference.columns:
        return float(missing(reference, feature).mean())
    if check == "late_rate":
        late = np.zeros(len(reference), dtype=bool)
        if feature.status in reference.columns:
            late |= (reference[feature.status] == STALE).to_numpy()
        if feature.budget_s and feature.age in reference.columns:
            late |= reference[feature.age].fillna(0.0).to_numpy() > feature.budget_s
        return float(late.mean()) if len(reference) else None
    return None


def _new_values(stat: Statistic, baseline: float, confidence: float, result: HealthResult) -> bool:
    """Raise an ``inspect`` alarm when a window holds significantly more unseen values than
    a clean window (``monitoring.unseen``), whatever its row count; True if it did."""
    count = round(stat.value * stat.rows)
    evident, low = significant_unseen(count, stat.rows, baseline, confidence)
    if not evident:
        return False
    message = (
        f"{stat.feature} has values unseen in training in {count} of {stat.rows} served rows "
        f"({stat.detail}): at least {low:.2%} at {confidence:.0%} confidence, above what a "
        f"clean window holds ({baseline:.2%})"
    )
    result.alarms.append(
        Alarm("health", "unseen_category", stat.feature, stat.value, baseline, message, "inspect")
    )
    return True


def _judge(
    stat: Statistic,
    feature: MonitoredFeature,
    line: float,
    settings: HealthSettings,
    result: HealthResult,
) -> None:
    """Raise the statistic's alarm when it is past ``line``; record it if it could not run."""
    check = ALARM_CHECK[stat.check]
    for label, rows in stat.too_small.items():
        result.not_run.append(NotRun(check, feature.name, rows, settings.segment_min_rows, label))
    if not stat.enough:
        needed = settings.segment_min_rows if stat.check == "segment_lag" else settings.min_rows
        result.not_run.append(NotRun(check, feature.name, stat.rows, needed))
        return
    if stat.value <= line:
        return
    if stat.check == "segment_lag":
        late = {k: v for k, v in stat.segments.items() if v[0] > line}
        high, low = 100 * settings.segment_age_quantile, 100 * (1 - settings.segment_age_quantile)
        parts = "; ".join(
            f"{feature.name} for {label} is older than the other values' p{high:g} age "
            f"({age / 3600:.1f} h) in {share:.0%} of its rows against {rest:.0%} for the rest, "
            f"and younger than their p{low:g} ({young / 3600:.1f} h) in {fresh:.0%} against "
            f"{rest_fresh:.0%}"
            for label, (_, share, rest, age, fresh, rest_fresh, young) in late.items()
        )
        result.alarms.append(
            Alarm("health", check, feature.name, stat.value, line, parts, "inspect")
        )
        return
    messages = {
        "null_rate": f"{feature.name} is missing in {stat.value:.1%} of served rows",
        "unseen_rate": f"{feature.name} has values unseen in training in {stat.value:.1%} of "
        f"served rows ({stat.detail})",
        "late_rate": f"{feature.name} is stale or older than its budget "
        f"({_budget(feature)}) in {stat.value:.1%} of served rows",
    }
    message = f"{messages[stat.check]} (clean windows stay under {line:.1%})"
    result.alarms.append(Alarm("health", check, feature.name, stat.value, line, message, "block"))


def _budget(feature: MonitoredFeature) -> str:
    return f"{feature.budget_s / 3600:g} h" if feature.budget_s else "none"


def _errors_and_latency(
    served: pd.DataFrame, errors: pd.DataFrame, checks: MonitoringSettings, result: HealthResult
) -> None:
    """Share of failed requests (by kind) and p95 latency over answers and errors."""
    settings = checks.health
    failed = len(errors)
    total = len(served) + failed
    rate = failed / total if total else 0.0
    result.metrics["health.errors"] = float(failed)
    result.metrics["health.error_rate"] = rate
    if failed and ERROR_KIND in errors.columns:
        for kind, count in errors[ERROR_KIND].value_counts().items():
            result.metrics[f"health.errors_by_kind.{kind}"] = float(count)
    enough = total >= settings.min_rows
    if not enough:
        result.not_run.append(NotRun("error_rate", None, total, settings.min_rows))
    elif rate > settings.error_rate:
        message = f"{rate:.1%} of requests failed ({failed} of {total})"
        result.alarms.append(
            Alarm("health", "error_rate", None, rate, settings.error_rate, message, "block")
        )
    latencies = [
        frame[LATENCY_MS].to_numpy(dtype="float64")
        for frame in (served, errors)
        if LATENCY_MS in frame.columns and len(frame)
    ]
    if latencies:
        p95 = float(np.nanquantile(np.concatenate(latencies), 0.95))
        result.metrics["health.latency_p95_ms"] = p95
        if enough and p95 > settings.latency_p95_ms:
            message = f"p95 latency is {p95:.0f} ms"
            result.alarms.append(
                Alarm("health", "latency", None, p95, settings.latency_p95_ms, message, "block")
            )
