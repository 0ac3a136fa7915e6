"""The feature contract: how a raw feature row becomes a model row.

A domain declares its rules next to its Feast objects (``feature_repo/contract.py``);
this module holds the rule types and the one function, :func:`apply_contract`, that
training and serving both call. Every rule is applied column-wise, so one row and one
million rows take the same code path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

import numpy as np
import pandas as pd

from ontime.errors import ContractViolation

OTHER = "other"
Kind = Literal["numeric", "boolean", "categorical"]
MissingRule = Literal["reject", "indicator", "default"]

# Per-feature statuses reported by apply_contract (and by serving, per response).
PRESENT, MISSING, CAPPED, OUT_OF_RANGE = "present", "missing", "capped", "out_of_range"
UNSEEN, DEFAULTED, STALE = "unseen_category", "defaulted", "stale"


@dataclass(frozen=True)
class FeatureRule:
    """What one feature may look like and what to do when it does not."""

    name: str
    kind: Kind
    missing: MissingRule
    cap: float | None = None
    allowed_range: tuple[float | None, float | None] | None = None
    categories: tuple[str, ...] = ()
    default: object = None
    source_guarantees_default: bool = False
    max_age: timedelta | None = None
    on_stale: Literal["missing", "reject"] = "missing"

    def __post_init__(self) -> None:
        # A default is only honest when the source promises that absence means the default.
        if self.missing == "default" and not self.source_guarantees_default:
            raise ValueError(f"{self.name}: missing='default' needs source_guarantees_default")
        if self.missing == "default" and self.default is None:
            raise ValueError(f"{self.name}: missing='default' needs a default value")
        if self.kind == "categorical" and self.cap is not None:
            raise ValueError(f"{self.name}: a categorical feature cannot have a cap")

    @property
    def indicator(self) -> str | None:
        """Name of the 0/1 column that records a missing value, if the rule keeps one."""
        return f"{self.name}_missing" if self.missing == "indicator" else None


@dataclass(frozen=True)
class FeatureContract:
    """All rules of one domain, plus the fields that are only known after prediction time."""

    rules: tuple[FeatureRule, ...]
    future_only_fields: frozenset[str] = frozenset()
    request_time_field: str | None = None

    def rule(self, feature: str) -> FeatureRule:
        for rule in self.rules:
            if rule.name == feature:
                return rule
        raise ContractViolation(f"feature '{feature}' has no rule in the feature contract")

    def model_columns(self, features: Sequence[str]) -> list[str]:
        """Model input columns, in a stable order: features, then missing indicators."""
        indicators = [self.rule(f).indicator for f in features]
        return list(features) + [name for name in indicators if name]


@dataclass
class ContractResult:
    """The model frame, a per-feature status frame and a reject reason per row ('' = kept)."""

    frame: pd.DataFrame
    statuses: pd.DataFrame
    rejected: pd.Series = field(repr=False)

    @property
    def accepted(self) -> pd.Series:
        return self.rejected == ""

    def raise_if_rejected(self) -> None:
        """Raise for the first rejected row; serving uses this for a single request."""
        reasons = self.rejected[self.rejected != ""]
        if len(reasons):
            raise ContractViolation(reasons.iloc[0])


def fit_categories(
    raw: pd.DataFrame, contract: FeatureContract, features: Sequence[str], min_count: int = 1
) -> dict[str, list[str]]:
    """Learn the known values of each categorical feature from training rows."""
    learned: dict[str, list[str]] = {}
    for name in features:
        rule = contract.rule(name)
        if rule.kind != "categorical":
            continue
        counts = raw[name].dropna().astype(str).value_counts()
        learned[name] = sorted(set(counts[counts >= min_count].index) - {OTHER})
    return learned


def apply_contract(
    raw: pd.DataFrame,
    contract: FeatureContract,
    features: Sequence[str],
    categories: Mapping[str, Sequence[str]] | None = None,
    stale: pd.DataFrame | None = None,
) -> ContractResult:
    """Turn raw feature values into model inputs by the contract's rules.

    ``categories`` are the known values per categorical feature (learned in training and
    stored with the model); ``stale`` marks values the caller found older than allowed.
    """
    missing_columns = [name for name in features if name not in raw.columns]
    if missing_columns:
        raise ContractViolation(f"feature column(s) absent from the input: {missing_columns}")
    out = pd.DataFrame(index=raw.index)
    statuses = pd.DataFrame(index=raw.index)
    rejected = pd.Series("", index=raw.index, dtype=object)

    for name in features:
        rule = contract.rule(name)
        values = raw[name]
        status = np.full(len(raw), PRESENT, dtype=object)
        missing = values.isna().to_numpy()
        status[missing] = MISSING
        if stale is not None and name in stale.columns:
            is_stale = stale[name].fillna(False).to_numpy(dtype=bool) & ~missing
            status[is_stale] = STALE
            if rule.on_stale == "reject":
                _reject(rejected, is_stale, f"{name} is stale (older than its allowed age)")
            values = values.mask(is_stale)
            missing = missing | is_stale

        if rule.kind == "categorical":
            known = list((categories or {}).get(name, rule.categories))
            text = values.astype("string")
            unseen = text.notna().to_numpy() & ~text.isin(known).to_numpy()
            status[unseen] = UNSEEN
            column = text.where(~unseen, OTHER)
        else:
            column = pd.to_numeric(values, errors="coerce").astype("float64")
            invalid = column.isna().to_numpy() & ~missing  # not a number at all
            status[invalid] = OUT_OF_RANGE
            missing = missing | invalid
            if rule.allowed_range is not None:
                low, high = rule.allowed_range
                outside = np.zeros(len(column), dtype=bool)
                if low is not None:
                    outside |= (column < low).to_numpy()
                if high is not None:
                    outside |= (column > high).to_numpy()
                status[outside] = OUT_OF_RANGE
                if rule.missing == "reject":
                    _reject(
                        rejected,
                        outside,
                        f"{name} is outside its allowed range {rule.allowed_range}",
                    )
                column = column.mask(outside)
                missing = missing | outside
            if rule.cap is not None:
                capped = (column > rule.cap).to_numpy()
                status[capped] = CAPPED
                column = column.clip(upper=rule.cap)

        if rule.missing == "reject":
            _reject(rejected, missing, f"required feature {name} is missing")
        elif rule.missing == "default":
            status[missing & (status == MISSING)] = DEFAULTED
            fill = rule.default if rule.kind == "categorical" else float(rule.default)
            column = column.where(~missing, fill)
        elif rule.indicator:
            out[rule.indicator] = missing.astype("float64")

        if rule.kind == "categorical":
            known = list((categories or {}).get(name, rule.categories))
            out[name] = pd.Categorical(column, categories=[*known, OTHER])
        else:
            out[name] = column.astype("float64")
        statuses[name] = status

    return ContractResult(out[contract.model_columns(features)], statuses, rejected)


def _reject(rejected: pd.Series, mask: np.ndarray, reason: str) -> None:
    """Record a reason on rows not already rejected (the first broken rule is reported)."""
    first = mask & (rejected == "").to_numpy()
    rejected[first] = reason
