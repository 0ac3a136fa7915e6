"""Feature freshness at prediction time.

Feast ignores the feature-view TTL on online reads (Feast issue 6821), so a value that a
training snapshot would have dropped as expired can still come back online. Serving checks
the age itself: a value older than its view's TTL, or than a stricter ``max_age`` in the
contract rule, is stale and follows the rule's ``on_stale`` through ``apply_contract``.

A value dated after the prediction time (a negative age) is from the future: the model must
never see it. It is blanked before the contract, so the rule's missing policy applies, and
reported with the status ``future``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ontime.contract import FeatureContract
from ontime.repo import ServiceSpec
from serving.log_reader import FUTURE


def allowed_ages(
    spec: ServiceSpec, contract: FeatureContract, features: Sequence[str]
) -> dict[str, float]:
    """Seconds each feature may age: the stricter of the view TTL and the rule's max_age.

    A feature with neither has no limit (``inf``).
    """
    limits: dict[str, float] = {}
    for name in features:
        ttl = spec.ttl_seconds.get(name, 0.0) or np.inf
        rule = contract.rule(name)
        max_age = rule.max_age.total_seconds() if rule.max_age is not None else np.inf
        limits[name] = float(min(ttl, max_age))
    return limits


def feature_ages(
    prediction_epoch_s: np.ndarray, event_epoch_s: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Age in seconds of each value at its row's prediction time (NaN when unknown)."""
    return {
        name: prediction_epoch_s - np.asarray(stamps, dtype="float64")
        for name, stamps in event_epoch_s.items()
    }


def stale_masks(
    ages: Mapping[str, np.ndarray], limits: Mapping[str, float]
) -> dict[str, np.ndarray]:
    """``stale=`` of apply_contract_arrays: True where a value is older than allowed."""
    # NaN ages compare False: an unknown age is not evidence of staleness.
    return {name: np.asarray(ages[name]) > limit for name, limit in limits.items() if name in ages}


def stale_frame(
    ages: Mapping[str, np.ndarray], limits: Mapping[str, float], index: pd.Index
) -> pd.DataFrame:
    """The same masks as a frame, the ``stale=`` argument of apply_contract."""
    return pd.DataFrame(stale_masks(ages, limits), index=index)


def future_masks(
    prediction_epoch_s: np.ndarray, newest_epoch_s: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """True where a value (or, for an on-demand feature, any of its inputs) is dated after
    its row's prediction time. An unknown date (NaN) is not evidence of the future."""
    with np.errstate(invalid="ignore"):
        return {
            name: np.asarray(stamps, dtype="float64") > prediction_epoch_s
            for name, stamps in newest_epoch_s.items()
        }


def blank(column: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``column`` with the masked values made missing (a copy when anything changes)."""
    if not mask.any():
        return column
    if column.dtype.kind == "f":
        blanked = column.copy()
        blanked[mask] = np.nan
        return blanked
    blanked = column.astype(object)
    blanked[mask] = None
    return blanked


def mark_future(statuses: Mapping[str, np.ndarray], future: Mapping[str, np.ndarray]) -> None:
    """Report blanked future values as ``future`` (whatever the missing policy made of them)."""
    for name, mask in future.items():
        if name in statuses and mask.any():
            statuses[name][mask] = FUTURE
