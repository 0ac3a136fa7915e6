"""``ontime monitor calibrate``: the champion's monitoring profile and its backtest.

Every check runs over the clean windows of the champion's reference period; each check's
threshold and its out-of-sample false-alarm rate on those windows (``monitoring.false_alarms``)
are reported. The profile is stored with the model, so a later ``ontime monitor`` of the
same window length uses exactly these thresholds; rerun it after changing settings.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np

from monitoring.calibrate import build_profile
from monitoring.champion import load_reference
from monitoring.false_alarms import ANY
from monitoring.limits import check_of, limit
from monitoring.profile import MonitoringProfile, profile_key
from monitoring.schema import monitored_features
from ontime.errors import OntimeError

if TYPE_CHECKING:
    from ontime.settings import Settings

log = logging.getLogger(__name__)

# The window length a promotion calibrates for (the length `ontime monitor` is run on by
# default); a window of another length gets its profile built at first use.
PROMOTION_WINDOW_HOURS = 12.0


@dataclass(frozen=True)
class CheckBacktest:
    """One check's line: its threshold and how often it fired on clean windows."""

    key: str
    threshold: float
    windows: int  # clean windows with enough rows to measure it
    false_alarm_rate: float  # out of sample (each block of days judged by the others)
    worst: float  # the largest clean-window value


def calibrate_champion(settings: Settings, window_hours: float) -> MonitoringProfile:
    """Build the champion's profile for windows of ``window_hours`` and store it with it."""
    from ontime.repo import describe_service, load_contract, open_store

    if window_hours <= 0:
        raise OntimeError(f"--hours must be positive, got {window_hours:g}")
    reference = load_reference(settings, datetime.now(UTC))
    period = reference.period_rows()
    if period is None or period.empty:
        raise OntimeError(f"{reference.describe()} has no reference period to calibrate on")
    store = open_store(settings.feature_repo)
    spec = describe_service(store, settings.feature_service)
    checks = settings.monitoring
    features = monitored_features(
        spec, load_contract(settings.feature_repo), checks.health.freshness_budget_s
    )
    model = (reference.model_name, reference.model_version)
    profile = build_profile(
        period, features, spec.entity_keys, checks, settings.training.costs, window_hours, model
    )
    if profile.windows < 2:
        raise OntimeError(
            f"the reference period ({profile.period['start']} to {profile.period['end']}) "
            f"is shorter than one {window_hours:g}-hour window"
        )
    if reference.profile_store is not None:
        reference.profile_store.save(profile_key(window_hours), profile.to_dict())
    return profile


def profile_after_promotion(
    settings: Settings, window_hours: float = PROMOTION_WINDOW_HOURS
) -> str:
    """Build and store the new champion's profile; one line saying what happened.

    A failure never undoes the promotion: the champion is monitored all the same
    (``ontime monitor`` builds a missing profile at first use), so it is only reported.
    """
    try:
        profile = calibrate_champion(settings, window_hours)
    except Exception as exc:  # the promotion stands whatever calibration does
        log.warning("monitoring profile not built after promotion", exc_info=True)
        first = (str(exc).strip().splitlines() or [""])[0]
        return (
            f"monitoring profile not built ({type(exc).__name__}: {first}); "
            f"`ontime monitor calibrate --hours {window_hours:g}` retries, "
            "`ontime monitor` builds it at first use"
        )
    return (
        f"monitoring profile: {profile.windows} clean {window_hours:g}-hour windows, "
        f"{profile.false_alarms.get(ANY, 0.0):.1%} with any alarm (backtest), stored with "
        f"{profile.model_name} v{profile.model_version}"
    )


def backtest_lines(profile: MonitoringProfile, settings: Settings) -> list[CheckBacktest]:
    """One line per statistic of the profile, in key order, then ``any``."""
    lines = []
    for key in sorted(profile.values):
        known = [v for v in profile.values[key] if v is not None]
        if not known:
            continue
        lines.append(
            CheckBacktest(
                key=key,
                threshold=limit(check_of(key), profile.quantile(key), settings.monitoring),
                windows=len(known),
                false_alarm_rate=profile.false_alarms.get(key, float("nan")),
                worst=float(np.max(known)),
            )
        )
    lines.append(
        CheckBacktest(ANY, float("nan"), profile.windows, profile.false_alarms.get(ANY, 0.0), 0.0)
    )
    return lines
