"""The monitored features, read from the FeatureService and the feature contract.

Monitoring never names a feature: kinds come from the contract (and Feast dtypes when a
feature has no rule), freshness budgets from the contract's ``max_age`` or the view's TTL,
unless ``monitoring.health.freshness_budget_s`` overrides one in ``ontime.yaml``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ontime.contract import FeatureContract
from ontime.errors import ContractViolation
from ontime.repo import ServiceSpec
from serving.log_reader import age_column, status_column

NUMERIC_DTYPES = ("Float32", "Float64", "Int32", "Int64", "UnixTimestamp")


@dataclass(frozen=True)
class MonitoredFeature:
    """One service feature as monitoring sees it."""

    name: str
    kind: str  # "numeric", "boolean" or "categorical"
    budget_s: float | None  # freshness budget; None = no age limit known

    @property
    def is_numeric(self) -> bool:
        return self.kind == "numeric"

    @property
    def status(self) -> str:
        """The log column with this feature's contract/freshness status per row."""
        return status_column(self.name)

    @property
    def age(self) -> str:
        """The log column with the served value's age in seconds."""
        return age_column(self.name)


def monitored_features(
    spec: ServiceSpec, contract: FeatureContract, budgets: Mapping[str, float] | None = None
) -> list[MonitoredFeature]:
    """Every feature of the service with its kind and freshness budget."""
    budgets = budgets or {}
    unknown = sorted(set(budgets) - set(spec.features))
    if unknown:
        raise ContractViolation(
            f"monitoring.health.freshness_budget_s names feature(s) {unknown} "
            f"that are not in FeatureService '{spec.name}'"
        )
    features = []
    for name in spec.features:
        try:
            rule = contract.rule(name)
            kind, max_age = rule.kind, rule.max_age
        except ContractViolation:
            kind, max_age = _kind_of_dtype(spec.dtypes.get(name, "")), None
        ttl = spec.ttl_seconds.get(name) or None
        budget = budgets.get(name, max_age.total_seconds() if max_age else ttl)
        features.append(MonitoredFeature(name=name, kind=kind, budget_s=budget))
    return features


def _kind_of_dtype(dtype: str) -> str:
    """A kind for a feature the contract has no rule for, from its Feast type."""
    if dtype == "Bool":
        return "boolean"
    return "numeric" if dtype in NUMERIC_DTYPES else "categorical"


def normalized(frame: pd.DataFrame, features: Sequence[MonitoredFeature]) -> pd.DataFrame:
    """Feature columns in one representation for both sides of any comparison.

    Numbers and booleans become float64 (NaN when missing), categories become strings
    (None when missing), so a served 1.0 equals an offline ``True``.
    """
    out = pd.DataFrame(index=frame.index)
    for feature in features:
        values = frame[feature.name]
        if feature.kind == "categorical":
            text = values.astype("string")
            out[feature.name] = text.astype(object).where(text.notna(), None)
        else:
            if values.dtype == object:  # booleans with nulls arrive as objects
                values = values.map(lambda v: np.nan if v is None else v)
            out[feature.name] = pd.to_numeric(values, errors="coerce").astype("float64")
    return out
