"""Time split: ordered, never shuffled, one label group never straddles two splits."""

from __future__ import annotations

import pandas as pd
import pytest

from ontime.errors import OntimeError
from training.split import split_by_time


def frame(times: list[str], groups: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"t": pd.to_datetime(times, utc=True), "g": groups, "v": range(len(times))})


def test_rows_are_cut_by_time_in_order():
    rows = frame([f"2026-01-{d:02d}" for d in range(10, 0, -1)], [str(i) for i in range(10)])
    split = split_by_time(rows, "t", "g", 0.6, 0.2)
    assert split.sizes() == {"train": 6, "validation": 2, "test": 2}
    assert split.train["t"].max() < split.validation["t"].min()
    assert split.validation["t"].max() < split.test["t"].min()
    assert split.boundaries == (
        pd.Timestamp("2026-01-07", tz="UTC"),
        pd.Timestamp("2026-01-09", tz="UTC"),
    )


def test_a_group_follows_its_first_prediction_time():
    # Order "a" is asked on day 1 and again on day 9: both asks belong to train.
    rows = frame(
        ["2026-01-01", "2026-01-09", "2026-01-02", "2026-01-05", "2026-01-08", "2026-01-10"],
        ["a", "a", "b", "c", "d", "e"],
    )
    split = split_by_time(rows, "t", "g", 0.5, 0.25)
    # Shares count rows: 3 of 6 rows start before 2026-01-05, and both asks of "a" are there.
    assert sorted(split.train["g"]) == ["a", "a", "b"]
    assert split.validation["g"].tolist() == ["c"]
    assert sorted(split.test["g"]) == ["d", "e"]


def test_too_few_rows_name_the_empty_split():
    rows = frame(["2026-01-01", "2026-01-01"], ["a", "b"])
    with pytest.raises(OntimeError, match="split is empty"):
        split_by_time(rows, "t", "g", 0.7, 0.15)
