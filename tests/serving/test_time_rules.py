"""Time at the edge: bounded prediction times, values from the future, stale-value messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import numpy as np
import pandas as pd
import pytest

from serving.bounds import FieldProblem, TimeWindow
from serving.freshness import blank, future_masks
from serving.log_reader import FUTURE, read_errors, read_predictions
from tests.serving.conftest import end_of_world, event_rows

WINDOW = TimeWindow(past=timedelta(days=5 * 365), future=timedelta(days=366))
NOW = datetime(2026, 11, 29, tzinfo=UTC)


@pytest.mark.parametrize(
    "moment",
    ["1600-01-01T00:00:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
     "2262-04-12T00:00:00", "1970-01-01T00:00:00", "2031-01-01T00:00:00"],
)  # fmt: skip
def test_prediction_times_outside_the_window_are_a_problem_naming_the_field(moment):
    with pytest.raises(FieldProblem, match=r"^prediction_time: .* outside the accepted window"):
        WINDOW.epoch_seconds(datetime.fromisoformat(moment), NOW)


def test_prediction_times_inside_the_window_and_omitted_ones_are_epoch_seconds():
    inside = datetime(2026, 6, 1, 12, tzinfo=UTC)
    assert WINDOW.epoch_seconds(inside, NOW) == inside.timestamp()
    assert WINDOW.epoch_seconds(inside.replace(tzinfo=None), NOW) == inside.timestamp()
    assert WINDOW.epoch_seconds(None, NOW) == NOW.timestamp()


def test_future_values_are_found_and_blanked_before_the_contract():
    masks = future_masks(np.array([100.0, 100.0, 100.0]), {"f": np.array([50.0, 150.0, np.nan])})
    assert masks["f"].tolist() == [False, True, False]  # an unknown date is not the future
    assert np.isnan(blank(np.array([1.0, 2.0]), np.array([False, True]))[1])
    assert blank(np.array(["a", "b"], dtype=object), np.array([True, False])).tolist() == [
        None,
        "b",
    ]


def post(live, path: str, body) -> httpx.Response:
    return httpx.post(live.url + path, json=body, timeout=30)


@pytest.mark.integration
def test_poison_prediction_times_are_422_per_row_and_the_log_keeps_working(live, live_world):
    rows = event_rows(live_world, 3, seed=21)
    for moment in ("1600-01-01T00:00:00", "0001-01-01T00:00:00+14:00"):
        single = post(live, "/v1/predict", {**rows[0], "prediction_time": moment})
        assert single.status_code == 422, single.text
        assert single.json()["error"]["detail"].startswith("body.prediction_time: ")
    batch = post(live, "/v1/predict/batch", {"rows": [
        rows[0], {**rows[1], "prediction_time": "1600-01-01T00:00:00"}, rows[2],
    ]})  # fmt: skip
    assert batch.status_code == 200, batch.text
    items = batch.json()["results"]
    assert [item["status"] for item in items] == [200, 422, 200]
    assert items[1]["error"]["detail"].startswith("rows.1.prediction_time: ")
    after = post(live, "/v1/predict", rows[2])
    assert after.status_code == 200
    live.service.logger.flush()
    start, end = datetime.now(UTC) - timedelta(minutes=5), datetime.now(UTC) + timedelta(minutes=1)
    logged = set(read_predictions(live.settings.serving.log_dir, start, end)["request_id"])
    served = {items[0]["prediction"]["request_id"], items[2]["prediction"]["request_id"],
              after.json()["request_id"]}  # fmt: skip
    assert served <= logged
    errors = read_errors(live.settings.serving.log_dir, start, end)
    assert (errors["kind"] == "validation").sum() == 3


def order_and_times(live_world) -> tuple[dict, pd.Timestamp]:
    """An order created two days before the world ends, and its creation time."""
    shipments = live_world.table("shipments")
    end = end_of_world(live_world)
    created = pd.to_datetime(shipments["created_at"], utc=True)
    order = shipments[(created < end - pd.Timedelta(days=2))].iloc[-1]
    events = live_world.table("prediction_events")
    event = events[events["order_id"] == order["order_id"]].iloc[0]
    row = {k: event[k] for k in ("order_id", "origin_warehouse", "carrier_id")}
    return row, pd.Timestamp(order["created_at"])


@pytest.mark.integration
def test_values_dated_after_the_prediction_time_never_reach_the_model(live, live_world):
    row, created = order_and_times(live_world)
    # After the order exists, but long before the newest backlog and carrier values online.
    asked = created + pd.Timedelta(minutes=30)
    response = post(live, "/v1/predict", {**row, "prediction_time": asked.isoformat()})
    assert response.status_code == 200, response.text
    features = response.json()["features"]
    assert features["carrier"]["status"] == "present"
    for name in ("origin_backlog", "carrier_late_rate_28d"):
        assert features[name]["status"] == FUTURE, features[name]
        assert features[name]["age_s"] < 0
    live.service.logger.flush()
    start, end = datetime.now(UTC) - timedelta(minutes=5), datetime.now(UTC) + timedelta(minutes=1)
    logged = read_predictions(live.settings.serving.log_dir, start, end)
    mine = logged[logged["request_id"] == response.json()["request_id"]]
    assert set(mine["role"]) == {"champion", "shadow"}  # the shadow saw no future value either
    assert set(mine["origin_backlog__status"]) == {FUTURE}
    metrics = httpx.get(live.url + "/metrics").text
    assert 'ontime_feature_future_total{feature="origin_backlog"}' in metrics


@pytest.mark.integration
def test_a_required_value_from_the_future_is_refused_saying_so(live, live_world):
    row, created = order_and_times(live_world)
    before = created - pd.Timedelta(hours=1)
    response = post(live, "/v1/predict", {**row, "prediction_time": before.isoformat()})
    assert response.status_code == 422, response.text
    detail = response.json()["error"]["detail"]
    assert detail.startswith("required feature carrier is from the future: its value is dated ")
    assert "3600 s" in detail


@pytest.mark.integration
def test_stale_required_value_says_stale_with_age_and_allowed_age(live, live_world):
    """prediction_time omitted: now is months after the world, past every TTL."""
    row = {k: v for k, v in event_rows(live_world, 1, seed=8)[0].items() if k != "prediction_time"}
    response = post(live, "/v1/predict", row)
    assert response.status_code == 422, response.text
    detail = response.json()["error"]["detail"]
    assert detail.startswith("required feature carrier is stale: its value is ")
    assert "at most 2592000 s (720.0 h) is allowed" in detail  # the view's 30-day TTL
