"""The snapshot rows are held once through fit: split parts and development frames are views.

A regression guard for ``ontime train``'s peak memory (each extra copy of a 4M-row
snapshot is about 0.3 GB), and a check that the views hold exactly the rows the copies did.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.testing import assert_frame_equal

from tests.training.test_baseline import rows_over_time
from tests.training.test_bundle_columns import FEATURES, KNOWN
from training.crossfit import development
from training.split import split_by_time


def shares(left: pd.DataFrame, right: pd.DataFrame, column: str) -> bool:
    return np.shares_memory(left[column].to_numpy(), right[column].to_numpy())


def test_split_parts_are_views_of_one_copy_in_split_order():
    rows = rows_over_time_shuffled()
    split = split_by_time(rows, "t", "order", 0.7, 0.15)
    starts = rows["t"].groupby(rows["order"]).transform("min")  # each order's first ask
    first, second = split.boundaries
    masks = {
        "train": starts < first,
        "validation": (starts >= first) & (starts < second),
        "test": starts >= second,
    }
    for name, mask in masks.items():
        part = split.part(name)
        # The rows the old per-part copy (rows.loc[mask]) held, in the same order.
        assert_frame_equal(part, rows.loc[mask].reset_index(drop=True))
        assert shares(part, split.ordered, "distance_km")
        assert not shares(part, rows, "distance_km")
    development_rows = split.development_rows()
    assert shares(development_rows, split.ordered, "distance_km")
    expected = pd.concat([split.train, split.validation], ignore_index=True)
    assert_frame_equal(development_rows, expected)


def test_development_frames_are_held_once(contract):
    split = split_by_time(rows_over_time_shuffled(), "t", "order", 0.7, 0.15)
    dev = development(split, contract, FEATURES, KNOWN, "late", "t", "order", 3)
    train, validation = dev.parts["train"], dev.parts["validation"]
    assert train.rejected == validation.rejected == 0
    assert shares(dev.rows, split.ordered, "distance_km")  # no concatenated copy
    for part in (train, validation):
        assert shares(part.frame, dev.frame, "distance_km")
        assert shares(part.rows, dev.rows, "distance_km")
    assert_frame_equal(dev.rows, pd.concat([split.train, split.validation], ignore_index=True))
    assert_frame_equal(dev.frame.iloc[: len(train.frame)], train.frame, check_index_type=False)
    np.testing.assert_array_equal(dev.labels, np.r_[train.labels, validation.labels])


def test_rows_the_contract_rejects_are_still_dropped(contract):
    rows = rows_over_time_shuffled()
    rows.loc[rows.index[::50], "distance_km"] = -1.0  # outside the allowed range: rejected
    split = split_by_time(rows, "t", "order", 0.7, 0.15)
    dev = development(split, contract, FEATURES, KNOWN, "late", "t", "order", 3)
    train, validation = dev.parts["train"], dev.parts["validation"]
    assert train.rejected > 0 and validation.rejected > 0
    kept = [part[part["distance_km"] >= 0] for part in (split.train, split.validation)]
    assert_frame_equal(dev.rows, pd.concat(kept, ignore_index=True))
    assert len(dev.frame) == len(dev.rows) == len(train.rows) + len(validation.rows)
    assert (dev.frame["distance_km"] >= 0).all()


def rows_over_time_shuffled() -> pd.DataFrame:
    """Rows not in time order (as a snapshot is: sorted by entity keys), with repeat asks."""
    from ontime.repo import load_contract
    from tests.conftest import ROOT

    rows = rows_over_time(load_contract(ROOT / "feature_repo"), 1200)
    rows["order"] = [f"o{i % 900}" for i in range(len(rows))]  # some orders asked twice
    return rows.sample(frac=1.0, random_state=3).reset_index(drop=True)
