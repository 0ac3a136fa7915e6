"""Feature freshness at prediction time.

Feast ignores the feature-view TTL on online reads (Feast issue 6821), so a value that a
training snapshot would have dropped as expired can still come back online. Serving checks
the age itself: a value older than its view's TTL, or than a stricter ``max_age`` in the
contract rule, is stale and follows the rule's ``on_stale`` through ``apply_contract``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ontime.contract import FeatureContract
from ontime.repo import ServiceSpec


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
