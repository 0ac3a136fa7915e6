"""The bundle scores contract columns (serving's path) exactly as it scores model frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xgboost as xgb

from ontime.contract import apply_contract, apply_contract_arrays
from training.bundle import Calibration, ModelBundle

FEATURES = [
    "carrier",
    "distance_km",
    "expedited",
    "origin_backlog",
    "carrier_late_rate_28d",
    "hours_since_last_scan",
]
KNOWN = {"carrier": ["northpost", "swiftship"]}


def raw_rows(count: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    backlog = rng.uniform(0, 300, count)
    backlog[rng.random(count) < 0.2] = np.nan
    return pd.DataFrame(
        {
            "carrier": rng.choice(["northpost", "swiftship", "newco"], count),
            "distance_km": rng.uniform(1, 2000, count),
            "expedited": rng.random(count) < 0.3,
            "origin_backlog": backlog,
            "carrier_late_rate_28d": rng.uniform(0, 0.5, count),
            "hours_since_last_scan": rng.uniform(0, 200, count),
        }
    )


def bundle_for(contract, tmp_path) -> ModelBundle:
    result = apply_contract(raw_rows(300, 1), contract, FEATURES, KNOWN)
    labels = (result.frame["distance_km"] > 900).astype(float)
    data = xgb.DMatrix(result.frame, label=labels, enable_categorical=True)
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 3}, data, 10)
    bundle = ModelBundle(
        booster, Calibration([0.0, 0.5, 1.0], [0.0, 0.4, 1.0]), "late_delivery_v1",
        FEATURES, list(result.frame.columns), KNOWN, 0.5,
    )  # fmt: skip
    return ModelBundle.load(bundle.save(tmp_path / "bundle"))  # the saved format, as served


def test_columns_path_equals_frame_path(contract, tmp_path):
    bundle = bundle_for(contract, tmp_path)
    raw = raw_rows(40, 2)
    framed = bundle.predict_proba(apply_contract(raw, contract, FEATURES, KNOWN).frame)
    for rows in (slice(0, 1), slice(0, 40)):  # one row (serving) and a batch
        part = raw.iloc[rows]
        arrays = apply_contract_arrays(
            {f: part[f].to_numpy() for f in FEATURES}, contract, FEATURES, KNOWN
        )
        scored = bundle.predict_proba_columns(arrays.columns, arrays.categories)
        np.testing.assert_allclose(scored, framed[rows], rtol=0, atol=1e-7)
    assert framed.min() < 0.5 < framed.max()  # the model is not a constant


def test_other_categories_take_the_frame_path(contract, tmp_path):
    bundle = bundle_for(contract, tmp_path)
    raw = raw_rows(20, 3)
    # Categories in another order than the booster's: codes must not be fed as they are.
    other_order = {"carrier": ["swiftship", "northpost"]}
    arrays = apply_contract_arrays(
        {f: raw[f].to_numpy() for f in FEATURES}, contract, FEATURES, other_order
    )
    expected = bundle.predict_proba(apply_contract(raw, contract, FEATURES, other_order).frame)
    np.testing.assert_allclose(
        bundle.predict_proba_columns(arrays.columns, arrays.categories), expected, atol=1e-7
    )
