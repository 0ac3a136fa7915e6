"""``read_between`` returns exactly the rows a pandas filter of the whole table returns."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from ontime.tables import column_names, read_between

START, END = datetime(2026, 3, 2, 6, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC)


def table(kind: str) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    times = pd.Series(pd.date_range("2026-03-01", periods=400, freq="15min", tz="UTC"))
    times = times.sample(frac=1.0, random_state=1).reset_index(drop=True)  # not in order
    times.iloc[[5, 50]] = pd.NaT
    times.iloc[7] = pd.Timestamp(END)  # one row exactly at the end
    if kind == "naive":
        times = times.dt.tz_localize(None)
    elif kind == "text":
        times = times.map(lambda t: None if pd.isna(t) else t.isoformat())
    return pd.DataFrame({"key": [f"k{i}" for i in range(400)], "t": times, "v": rng.random(400)})


def expected(frame: pd.DataFrame, inclusive: bool) -> pd.DataFrame:
    times = pd.to_datetime(frame["t"], utc=True)
    upper = times <= END if inclusive else times < END
    return frame[((times >= START) & upper).to_numpy()].reset_index(drop=True)


@pytest.mark.parametrize("kind", ["zoned", "naive", "text"])
@pytest.mark.parametrize("inclusive", [False, True])
def test_a_window_is_the_rows_a_whole_table_filter_keeps(tmp_path, kind, inclusive):
    frame = table(kind)
    path = tmp_path / "events.parquet"
    frame.to_parquet(path, index=False, row_group_size=50)  # many row groups to skip
    got = read_between(path, "t", START, END, columns=["key", "t", "v"], end_inclusive=inclusive)
    want = expected(frame, inclusive)
    assert len(want) > 50 and (want["t"].notna()).all()
    pd.testing.assert_frame_equal(got, want)


def test_only_the_named_columns_are_read(tmp_path):
    path = tmp_path / "events.parquet"
    table("zoned").to_parquet(path, index=False)
    assert column_names(path) == ["key", "t", "v"]
    assert list(read_between(path, "t", START, END, columns=["key"]).columns) == ["key"]
    assert len(read_between(path, "t")) == 398  # no bounds: every row with a time
