"""Every rule of the late-delivery feature contract, on 1-3 row frames."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ontime.contract import (
    OTHER,
    FeatureRule,
    apply_contract,
    apply_contract_arrays,
    fit_categories,
)
from ontime.errors import ContractViolation

FEATURES = [
    "carrier",
    "distance_km",
    "expedited",
    "origin_backlog",
    "carrier_late_rate_28d",
    "hours_since_last_scan",
]
KNOWN = {"carrier": ["northpost", "swiftship"]}


def row(**overrides) -> dict:
    base = {
        "carrier": "swiftship",
        "distance_km": 420.0,
        "expedited": True,
        "origin_backlog": 120.0,
        "carrier_late_rate_28d": 0.2,
        "hours_since_last_scan": 8.0,
    }
    return {**base, **overrides}


def apply(contract, *rows, stale=None):
    return apply_contract(pd.DataFrame(list(rows)), contract, FEATURES, KNOWN, stale=stale)


def test_clean_row_passes_through_unchanged(contract):
    result = apply(contract, row())
    assert result.accepted.all()
    frame = result.frame.iloc[0]
    assert frame["distance_km"] == 420.0
    assert frame["expedited"] == 1.0
    assert frame["carrier"] == "swiftship"
    assert frame["origin_backlog_missing"] == 0.0
    assert set(result.statuses.iloc[0]) == {"present"}


def test_model_columns_are_features_then_indicators(contract):
    result = apply(contract, row())
    assert list(result.frame.columns) == [
        *FEATURES,
        "origin_backlog_missing",
        "carrier_late_rate_28d_missing",
        "hours_since_last_scan_missing",
    ]


def test_distance_absent_is_rejected_naming_the_feature(contract):
    result = apply(contract, row(), row(distance_km=None))
    assert list(result.accepted) == [True, False]
    assert "distance_km" in result.rejected.iloc[1]
    with pytest.raises(ContractViolation, match="distance_km"):
        result.raise_if_rejected()


def test_distance_out_of_range_is_rejected(contract):
    result = apply(contract, row(distance_km=-5.0))
    assert not result.accepted.iloc[0]
    assert "distance_km" in result.rejected.iloc[0]
    assert result.statuses.loc[0, "distance_km"] == "out_of_range"


def test_hours_since_last_scan_is_capped_at_168(contract):
    result = apply(contract, row(hours_since_last_scan=400.0), row(hours_since_last_scan=168.0))
    assert list(result.frame["hours_since_last_scan"]) == [168.0, 168.0]
    assert list(result.statuses["hours_since_last_scan"]) == ["capped", "present"]


def test_backlog_missing_sets_indicator_and_is_never_filled_with_zero(contract):
    result = apply(contract, row(origin_backlog=None), row(origin_backlog=0.0))
    assert result.accepted.all()
    assert math.isnan(result.frame.loc[0, "origin_backlog"])
    assert result.frame.loc[0, "origin_backlog_missing"] == 1.0
    # A measured zero is a real, empty dock: kept, and not flagged missing.
    assert result.frame.loc[1, "origin_backlog"] == 0.0
    assert result.frame.loc[1, "origin_backlog_missing"] == 0.0


def test_negative_backlog_is_treated_as_missing_not_clipped(contract):
    result = apply(contract, row(origin_backlog=-3.0))
    assert math.isnan(result.frame.loc[0, "origin_backlog"])
    assert result.frame.loc[0, "origin_backlog_missing"] == 1.0
    assert result.statuses.loc[0, "origin_backlog"] == "out_of_range"


def test_unseen_carrier_maps_to_other(contract):
    result = apply(contract, row(carrier="newco"), row(carrier="northpost"))
    assert list(result.frame["carrier"].astype(str)) == [OTHER, "northpost"]
    assert list(result.frame["carrier"].cat.categories) == ["northpost", "swiftship", OTHER]
    assert result.statuses.loc[0, "carrier"] == "unseen_category"


def test_missing_carrier_is_rejected(contract):
    result = apply(contract, row(carrier=None))
    assert "carrier" in result.rejected.iloc[0]


def test_expedited_defaults_to_false_because_the_source_guarantees_it(contract):
    result = apply(contract, row(expedited=None))
    assert result.accepted.all()
    assert result.frame.loc[0, "expedited"] == 0.0
    assert result.statuses.loc[0, "expedited"] == "defaulted"


def test_a_default_without_a_source_guarantee_cannot_be_declared():
    with pytest.raises(ValueError, match="source_guarantees_default"):
        FeatureRule("expedited", kind="boolean", missing="default", default=False)


def test_stale_values_become_missing_with_indicator(contract):
    stale = pd.DataFrame({"origin_backlog": [True]})
    result = apply(contract, row(), stale=stale)
    assert math.isnan(result.frame.loc[0, "origin_backlog"])
    assert result.frame.loc[0, "origin_backlog_missing"] == 1.0
    assert result.statuses.loc[0, "origin_backlog"] == "stale"


def test_rate_outside_unit_interval_is_missing(contract):
    result = apply(contract, row(carrier_late_rate_28d=1.7))
    assert math.isnan(result.frame.loc[0, "carrier_late_rate_28d"])
    assert result.frame.loc[0, "carrier_late_rate_28d_missing"] == 1.0


def test_feature_without_a_rule_is_refused(contract):
    frame = pd.DataFrame([{**row(), "mystery": 1.0}])
    with pytest.raises(ContractViolation, match="mystery"):
        apply_contract(frame, contract, [*FEATURES, "mystery"], KNOWN)


def test_absent_feature_column_is_refused(contract):
    frame = pd.DataFrame([row()]).drop(columns="distance_km")
    with pytest.raises(ContractViolation, match="distance_km"):
        apply_contract(frame, contract, FEATURES, KNOWN)


def test_row_and_frame_paths_agree(contract):
    rows = [row(), row(origin_backlog=None, carrier="newco"), row(hours_since_last_scan=900.0)]
    together = apply(contract, *rows).frame.reset_index(drop=True)
    one_by_one = pd.concat([apply(contract, r).frame for r in rows], ignore_index=True)
    pd.testing.assert_frame_equal(together, one_by_one)


def test_fit_categories_learns_known_values(contract):
    frame = pd.DataFrame({"carrier": ["b", "a", "a", None, OTHER]})
    assert fit_categories(frame, contract, ["carrier"]) == {"carrier": ["a", "b"]}
    assert fit_categories(frame, contract, ["carrier"], min_count=2) == {"carrier": ["a"]}


def test_model_frame_is_numeric_except_categoricals(contract):
    frame = apply(contract, row()).frame
    numeric = frame.drop(columns="carrier")
    assert all(np.issubdtype(dtype, np.floating) for dtype in numeric.dtypes)


def served_rows():
    """Rows as an online store serves them: Python values, None when absent."""
    return [
        row(),
        row(origin_backlog=None, carrier="newco"),
        row(hours_since_last_scan=900.0, expedited=None),
        row(distance_km=-5.0),
        row(carrier=None, carrier_late_rate_28d=1.7),
        row(distance_km="12.5", origin_backlog=-3.0),
    ]


@pytest.mark.parametrize("repeat", [1, 20])  # 6 rows, and 120 (past the small-batch path)
def test_array_path_equals_frame_path(contract, repeat):
    rows = served_rows() * repeat
    stale = {"carrier_late_rate_28d": np.array([False, True, False, False, False, True] * repeat)}
    framed = apply_contract(
        pd.DataFrame(rows), contract, FEATURES, KNOWN, stale=pd.DataFrame(stale)
    )
    columns = {f: np.array([r[f] for r in rows], dtype=object) for f in FEATURES}
    arrays = apply_contract_arrays(columns, contract, FEATURES, KNOWN, stale=stale)
    pd.testing.assert_frame_equal(arrays.frame(), framed.frame)
    pd.testing.assert_frame_equal(arrays.status_frame(), framed.statuses)
    assert arrays.rejected.tolist() == framed.rejected.tolist()
    assert set(arrays.rejected) > {""}  # some rows were rejected, some kept
    assert arrays.categories["carrier"] == ("northpost", "swiftship", OTHER)
    assert arrays.statuses["carrier_late_rate_28d"][1] == "stale"


def test_array_path_codes_categories_in_model_order(contract):
    columns = {f: np.array([r[f] for r in served_rows()], dtype=object) for f in FEATURES}
    arrays = apply_contract_arrays(columns, contract, FEATURES, KNOWN)
    # swiftship is known code 1, newco is unseen -> "other" (2), a missing carrier is -1.
    assert arrays.columns["carrier"].tolist() == [1, 2, 1, 1, -1, 1]
    assert list(arrays.columns) == contract.model_columns(FEATURES)
