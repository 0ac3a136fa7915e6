"""Labels read for a window's keys only join to its served rows exactly as the whole
label table does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from monitoring.labels import join_labels, read_labels

AS_OF = datetime(2026, 7, 1, tzinfo=UTC)


def history(rows: int = 600, seed: int = 0, naive: bool = False) -> pd.DataFrame:
    """A label table of many orders: corrections, late arrivals, a missing arrival time."""
    rng = np.random.default_rng(seed)
    orders = [f"O-{i}" for i in rng.integers(0, rows // 2, rows)]  # repeats are corrections
    predicted = pd.Timestamp(AS_OF) - pd.to_timedelta(rng.integers(1, 72, rows), unit="h")
    known = predicted + pd.to_timedelta(rng.integers(0, 96, rows), unit="h")
    known = known.where(rng.uniform(size=rows) > 0.05)  # a few never say when they came
    if naive:
        known = known.tz_localize(None)
    labels = pd.DataFrame(
        {
            "order_id": orders,
            "prediction_time": predicted,
            "late": rng.uniform(size=rows) < 0.3,
            "known_at": known,
            "carrier": rng.choice(["a", "b"], rows),  # a column the join never reads
        }
    )
    # Corrections of the same order and time: the later row is the one that counts.
    corrected = labels.iloc[::7].assign(late=lambda f: ~f["late"])
    return pd.concat([labels, corrected], ignore_index=True)


def served_rows(labels: pd.DataFrame, seed: int = 1) -> pd.DataFrame:
    """A window's served rows: some labelled orders (at their times), some unknown ones."""
    rng = np.random.default_rng(seed)
    picked = labels.sample(80, random_state=seed)[["order_id", "prediction_time"]]
    unknown = pd.DataFrame(
        {"order_id": [f"X-{i}" for i in range(5)], "prediction_time": pd.Timestamp(AS_OF)}
    )
    frame = pd.concat([picked, unknown], ignore_index=True)
    return frame.assign(probability=rng.uniform(size=len(frame)))


@pytest.mark.parametrize("with_time", [True, False])
@pytest.mark.parametrize("naive", [False, True])
def test_labels_read_for_the_served_keys_join_as_the_whole_table(tmp_path, with_time, naive):
    table = history(naive=naive)
    if not with_time:
        table = table.drop(columns="prediction_time")
    path = tmp_path / "labels.parquet"
    table.to_parquet(path)
    served = served_rows(history())
    args = (path, "order_id", "late", "known_at", AS_OF)

    whole = read_labels(*args)
    keyed = read_labels(*args, keys=served["order_id"], time_column="prediction_time")

    # Only the window's orders are read, and only the columns the join uses.
    assert 0 < len(keyed) < len(whole) / 2
    assert set(keyed["order_id"]) <= set(served["order_id"])
    assert "carrier" not in keyed.columns
    for labels in (whole, keyed):
        joined = join_labels(served, labels, "order_id", "late", "prediction_time")
        assert joined["_label"].notna().sum() > 10
    pd.testing.assert_frame_equal(
        join_labels(served, keyed, "order_id", "late", "prediction_time"),
        join_labels(served, whole, "order_id", "late", "prediction_time"),
    )


def test_a_window_of_unknown_orders_reads_no_labels(tmp_path):
    path = tmp_path / "labels.parquet"
    history().to_parquet(path)
    served = pd.DataFrame({"order_id": pd.Series(["X-1", None], dtype=object)})
    keyed = read_labels(
        path, "order_id", "late", "known_at", AS_OF + timedelta(days=30), keys=served["order_id"]
    )
    assert keyed.empty and list(keyed.columns) == ["order_id", "late", "known_at"]
