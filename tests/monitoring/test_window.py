"""Reading a window of the served log: by prediction time, only some columns, categoricals."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from monitoring import svg
from monitoring.health_stats import segment_keys
from monitoring.window import Window, logged_service, read_logs
from ontime.errors import OntimeError


def stamps(*texts: str) -> pd.Series:
    return pd.Series(pd.to_datetime(list(texts), utc=True)).astype("datetime64[us, UTC]")


def write_part(log_dir: Path, table: str, day: str, frame: pd.DataFrame) -> None:
    folder = log_dir / table / f"date={day}"
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(folder / f"part-{uuid.uuid4().hex}.parquet", index=False)


@pytest.fixture
def log_dir(tmp_path) -> Path:
    """Two serving days replaying older asks; one file lacks a column, one has it all-null."""
    write_part(
        tmp_path,
        "predictions",
        "2026-03-02",
        pd.DataFrame(
            {
                "request_id": ["r1", "r2", "r3", "r4"],
                "served_at": stamps(
                    "2026-03-02T09:00", "2026-03-02T08:00", "2026-03-02T10:00", "2026-03-02T11:00"
                ),
                "prediction_time": stamps(
                    "2026-01-05T01:00", "2026-01-05T02:00", "2026-01-07T00:00", "2026-01-05T03:00"
                ),
                "role": ["champion", "champion", "champion", "champion"],
                "feature_service": ["svc_v2"] * 4,
                "carrier": [None, None, None, None],  # null-typed in this file
                "probability": [0.1, 0.2, 0.3, 0.4],
            }
        ),
    )
    write_part(
        tmp_path,
        "predictions",
        "2026-03-03",
        pd.DataFrame(
            {
                "request_id": ["r5", "r6"],
                "served_at": stamps("2026-03-03T07:00", "2026-03-03T06:00"),
                "prediction_time": stamps("2026-01-05T05:00", "2026-01-05T04:00"),
                "role": ["champion", "shadow"],
                "feature_service": ["svc_v2", "svc_v3"],
                "carrier": ["ups", "dhl"],
                "probability": [0.5, 0.6],
                "origin": ["north", "south"],  # a column older files lack
            }
        ),
    )
    write_part(
        tmp_path,
        "errors",
        "2026-03-02",
        pd.DataFrame(
            {
                "served_at": stamps("2026-03-02T07:00", "2026-03-02T12:00"),
                "kind": ["not_found", "validation"],
                "detail": ["x", "y"],
                "latency_ms": [1.0, 2.0],
            }
        ),
    )
    return tmp_path


def day_window() -> Window:
    return Window.of(datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 1, 6, tzinfo=UTC))


def test_a_prediction_time_window_reads_every_partition_and_only_asked_columns(log_dir):
    rows, errors = read_logs(
        log_dir, day_window(), "prediction_time", ["probability", "carrier", "role", "origin"]
    )
    # r3 was asked on Jan 7; the rest were asked on Jan 5, served over two days.
    assert sorted(rows.columns) == sorted(
        ["served_at", "prediction_time", "probability", "carrier", "role", "origin"]
    )
    assert rows["probability"].tolist() == [0.2, 0.1, 0.4, 0.6, 0.5]  # by served_at
    assert rows["carrier"].isna().tolist() == [True, True, True, False, False]
    assert rows["origin"].astype(object).where(rows["origin"].notna(), None).tolist() == [
        None, None, None, "south", "north",
    ]  # fmt: skip
    assert str(rows["served_at"].dtype) == "datetime64[us, UTC]"
    # Errors served while the window's predictions were: 08:00 on Mar 2 to 07:00 on Mar 3.
    assert errors["kind"].tolist() == ["validation"]


def test_repeated_strings_come_back_as_categoricals_that_compare_like_strings(log_dir):
    rows, _ = read_logs(log_dir, day_window(), "prediction_time")
    assert isinstance(rows["role"].dtype, pd.CategoricalDtype)  # 2 values in 5 rows
    assert rows["request_id"].dtype == object  # all distinct: plain strings
    assert (rows["role"] == "champion").tolist() == [True, True, True, False, True]


def test_a_served_at_window_prunes_days_and_keeps_the_fixed_columns_when_empty(log_dir):
    window = Window.of(datetime(2026, 3, 3, tzinfo=UTC), datetime(2026, 3, 4, tzinfo=UTC))
    rows, errors = read_logs(log_dir, window, "served_at", ["probability"])
    assert rows["probability"].tolist() == [0.6, 0.5] and errors.empty
    later = Window.of(datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 4, 2, tzinfo=UTC))
    empty, _ = read_logs(log_dir, later, "prediction_time", ["probability", "carrier"])
    assert empty.empty
    assert set(empty.columns) == {"probability", "carrier", "served_at", "prediction_time"}
    assert str(empty["prediction_time"].dtype) == "datetime64[us, UTC]"


def test_the_service_named_by_champion_rows_is_found_first(log_dir):
    found = logged_service(log_dir, day_window(), "prediction_time", "fallback")
    assert found == ("svc_v2", True)  # the shadow row names svc_v3
    later = Window.of(datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 4, 2, tzinfo=UTC))
    assert logged_service(log_dir, later, "prediction_time", "fallback") == ("fallback", False)
    with pytest.raises(OntimeError, match="not found"):
        logged_service(log_dir / "absent", later, "prediction_time", "fallback")


def test_an_unknown_window_clock_is_a_clear_error(log_dir):
    with pytest.raises(OntimeError, match="no column 'asked_at'"):
        read_logs(log_dir, day_window(), "asked_at")


def test_segments_of_a_categorical_key_are_sorted_by_value():
    keys = pd.Series(pd.Categorical(["b", "a", "b", None], categories=["b", "z", "a"]))
    codes, values = segment_keys(pd.DataFrame({"k": keys}), ["k"], 10)["k"]
    assert list(values) == ["a", "b"] and codes.tolist() == [1, 0, 1, -1]


def test_svg_charts_draw_one_bar_per_filled_bin_and_one_point_per_bucket():
    chart = svg.histograms({"ref": np.array([0.1, 0.1, 0.9]), "now": np.array([])}, bins=10)
    assert chart.startswith("<svg") and chart.count("<rect") == 2 + 1  # bars + legend
    assert ">ref<" in chart and ">now<" not in chart
    curve = svg.calibration([0.1, 0.5, 0.8], [0.2, 0.4, 0.9])
    assert curve.count("<circle") == 3


def test_psi_of_a_categorical_equals_psi_of_the_same_strings():
    from monitoring.drift import psi_categorical

    reference = pd.Series(["a"] * 30 + ["b"] * 10 + [None] * 5, dtype=object)
    current = ["a"] * 10 + ["b"] * 25 + ["c"] * 5 + [None]
    as_text = psi_categorical(reference, pd.Series(current, dtype=object))
    as_codes = psi_categorical(reference, pd.Series(pd.Categorical(current, ["c", "z", "b", "a"])))
    assert as_codes == pytest.approx(as_text) and as_text > 0.5
