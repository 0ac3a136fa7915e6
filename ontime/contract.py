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
from functools import lru_cache
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
SMALL_BATCH = 32  # up to this many rows, per-value Python beats pandas' per-call overhead


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


@dataclass
class ContractArrays:
    """The contract's output as plain numpy columns, for callers that need no DataFrame.

    ``columns`` holds the model columns in model order: float64 values, and for a
    categorical feature its int codes (-1 = missing) into ``categories[name]`` (the known
    values, then ``other``). Serving scores single rows from this directly; building
    DataFrames would cost more than applying the rules.
    """

    columns: dict[str, np.ndarray]
    categories: dict[str, tuple[str, ...]]
    statuses: dict[str, np.ndarray]  # feature -> status per row
    rejected: np.ndarray  # reason per row, '' = kept

    def frame(self, index: pd.Index | None = None) -> pd.DataFrame:
        """The model frame (categoricals as pandas categoricals), as training uses it."""
        data = {
            name: pd.Categorical.from_codes(values, dtype=_categorical_dtype(self.categories[name]))
            if name in self.categories
            else values
            for name, values in self.columns.items()
        }
        return pd.DataFrame(data, index=index)

    def status_frame(self, index: pd.Index | None = None) -> pd.DataFrame:
        """The statuses as one frame (feature columns)."""
        names = list(self.statuses)
        # One 2-D object block: a frame built from a dict of object columns costs 4x as much.
        table = np.empty((len(self.rejected), len(names)), dtype=object)
        for position, name in enumerate(names):
            table[:, position] = self.statuses[name]
        return pd.DataFrame(table, index=index, columns=names)


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
    The rules themselves live in :func:`apply_contract_arrays`; this wraps its output in
    frames indexed like ``raw``.
    """
    absent = [name for name in features if name not in raw.columns]
    if absent:
        raise ContractViolation(f"feature column(s) absent from the input: {absent}")
    stale_masks = None
    if stale is not None:
        stale_masks = {name: _as_bool(stale[name]) for name in features if name in stale.columns}
    result = apply_contract_arrays(
        {name: raw[name].to_numpy() for name in features},
        contract,
        features,
        categories,
        stale=stale_masks,
    )
    return ContractResult(
        result.frame(raw.index),
        result.status_frame(raw.index),
        pd.Series(result.rejected, index=raw.index, dtype=object),
    )


def apply_contract_arrays(
    raw: Mapping[str, np.ndarray | Sequence],
    contract: FeatureContract,
    features: Sequence[str],
    categories: Mapping[str, Sequence[str]] | None = None,
    stale: Mapping[str, np.ndarray] | None = None,
) -> ContractArrays:
    """The contract's rules on raw columns (feature -> values); the one implementation.

    ``stale`` maps a feature to a boolean mask of values older than allowed. Column-wise
    numpy throughout: serving calls this per request, so a single row must cost well under
    a millisecond, and a million training rows must stay vectorised.
    """
    absent = [name for name in features if name not in raw]
    if absent:
        raise ContractViolation(f"feature column(s) absent from the input: {absent}")
    columns: dict[str, np.ndarray] = {}
    statuses: dict[str, np.ndarray] = {}
    labels: dict[str, tuple[str, ...]] = {}
    size = len(raw[features[0]]) if len(features) else 0
    rejected = np.full(size, "", dtype=object)

    for name in features:
        rule = contract.rule(name)
        values = np.asarray(raw[name])
        status = np.full(size, PRESENT, dtype=object)
        missing = np.asarray(pd.isna(values), dtype=bool)
        status[missing] = MISSING
        if stale is not None and name in stale:
            is_stale = np.asarray(stale[name], dtype=bool) & ~missing
            status[is_stale] = STALE
            if rule.on_stale == "reject":
                _reject(rejected, is_stale, f"{name} is stale (older than its allowed age)")
            missing = missing | is_stale

        if rule.kind == "categorical":
            known = tuple((categories or {}).get(name, rule.categories))
            codes = _category_codes(values, known)
            unseen = (codes < 0) & ~missing
            status[unseen] = UNSEEN
            codes[unseen] = len(known)  # "other"
            if rule.missing == "default":
                status[missing & (status == MISSING)] = DEFAULTED
                fill = known.index(rule.default) if rule.default in known else len(known)
                codes[missing] = fill
            else:
                codes[missing] = -1
            columns[name] = codes
            labels[name] = (*known, OTHER)
        else:
            column = _as_float(values)
            column[missing] = np.nan
            invalid = np.isnan(column) & ~missing  # present but not a number
            status[invalid] = OUT_OF_RANGE
            missing = missing | invalid
            if rule.allowed_range is not None:
                low, high = rule.allowed_range
                with np.errstate(invalid="ignore"):
                    outside = np.zeros(size, dtype=bool)
                    if low is not None:
                        outside |= column < low
                    if high is not None:
                        outside |= column > high
                status[outside] = OUT_OF_RANGE
                if rule.missing == "reject":
                    _reject(
                        rejected,
                        outside,
                        f"{name} is outside its allowed range {rule.allowed_range}",
                    )
                column[outside] = np.nan
                missing = missing | outside
            if rule.cap is not None:
                with np.errstate(invalid="ignore"):
                    capped = column > rule.cap
                status[capped] = CAPPED
                column[capped] = rule.cap
            if rule.missing == "default":
                status[missing & (status == MISSING)] = DEFAULTED
                column[missing] = float(rule.default)
            columns[name] = column

        if rule.missing == "reject":
            _reject(rejected, missing, f"required feature {name} is missing")
        elif rule.indicator:
            columns[rule.indicator] = missing.astype("float64")
        statuses[name] = status

    order = contract.model_columns(features)
    return ContractArrays({name: columns[name] for name in order}, labels, statuses, rejected)


def _category_codes(values: np.ndarray, known: tuple[str, ...]) -> np.ndarray:
    """Code of each value's string form among ``known`` (-1 when not known).

    A few rows go through a cached dict: ``Index.get_indexer`` costs ~50 us even for one row.
    """
    if len(values) <= SMALL_BATCH:
        code_of = _category_codes_of(known)
        return np.array([code_of.get(str(v), -1) for v in values], dtype=np.int64)
    return _category_index(known).get_indexer(values.astype(str)).astype(np.int64)


@lru_cache(maxsize=256)
def _categorical_dtype(labels: tuple[str, ...]) -> pd.CategoricalDtype:
    return pd.CategoricalDtype(list(labels))


@lru_cache(maxsize=256)
def _category_codes_of(known: tuple[str, ...]) -> dict[str, int]:
    return {value: code for code, value in enumerate(known)}


@lru_cache(maxsize=256)
def _category_index(known: tuple[str, ...]) -> pd.Index:
    """Index of the known values (cached: the same for every call with these categories)."""
    return pd.Index(known, dtype=object)


def _as_bool(column: pd.Series) -> np.ndarray:
    """A boolean mask from a stale column; NA counts as not stale."""
    values = column.to_numpy()
    if values.dtype == bool:
        return values
    return column.to_numpy(dtype=bool, na_value=False)


def _as_float(values: np.ndarray) -> np.ndarray:
    """A writable float64 copy; anything that is not a number becomes NaN."""
    if values.dtype.kind in "fiub":
        return values.astype("float64", copy=True)
    return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype="float64", copy=True)


def _reject(rejected: np.ndarray, mask: np.ndarray, reason: str) -> None:
    """Record a reason on rows not already rejected (the first broken rule is reported)."""
    rejected[mask & (rejected == "")] = reason
