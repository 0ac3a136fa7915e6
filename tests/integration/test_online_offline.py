"""After materialization, each online value equals the last offline row for its key."""

from __future__ import annotations

import pandas as pd
import pytest

from ontime.repo import describe_service
from serving.online import online_rows

pytestmark = pytest.mark.integration


def last_rows(table: pd.DataFrame, key: str, ts: str, created: str | None, end, ttl):
    """The newest row per key by (event time, write time) inside [end - ttl, end]."""
    window = table[(table[ts] <= end) & (table[ts] >= end - ttl)]
    order = [ts, created] if created else [ts]
    return window.sort_values(order).drop_duplicates(key, keep="last").set_index(key)


@pytest.fixture(scope="module")
def materialized(applied_repo):
    events = applied_repo.table("prediction_events")
    end = events["prediction_time"].max()
    applied_repo.ontime("materialize", "--end", end.isoformat())
    return end


def expected_online(temp, store, sample: pd.DataFrame, end) -> pd.DataFrame:
    """The last offline row per key inside each view's TTL, as the online store should hold."""
    ttl = {v.name: v.ttl for v in store.list_feature_views()}
    table = temp.table
    shipments = last_rows(
        table("shipments"), "order_id", "created_at", None, end, ttl["shipment_profile"]
    )
    backlog = last_rows(
        table("warehouse_backlog"),
        "origin_warehouse",
        "event_timestamp",
        "created_at",
        end,
        ttl["warehouse_backlog"],
    )
    rates = last_rows(
        table("carrier_reliability"),
        "carrier_id",
        "event_timestamp",
        "created_at",
        end,
        ttl["carrier_reliability"],
    )
    scans = last_rows(
        table("scan_events"), "order_id", "scan_at", "ingested_at", end, ttl["shipment_scans"]
    )
    return pd.DataFrame(
        {
            "distance_km": sample["order_id"].map(shipments["distance_km"]),
            "carrier": sample["order_id"].map(shipments["carrier"]),
            "expedited": sample["order_id"].map(shipments["expedited"]).astype("float64"),
            "origin_backlog": sample["origin_warehouse"].map(backlog["origin_backlog"]),
            "carrier_late_rate_28d": sample["carrier_id"].map(rates["carrier_late_rate_28d"]),
            "hours_since_last_scan": (
                (end - sample["order_id"].map(scans["scan_at"])).dt.total_seconds() / 3600
            ).clip(upper=168.0),
        }
    )


def assert_online_equals(online: pd.DataFrame, expected: pd.DataFrame, label: str) -> None:
    """Column by column, in the expected dtypes (Feast returns booleans as objects)."""
    actual = online[list(expected.columns)].copy()
    actual["expedited"] = actual["expedited"].astype("float64")
    for column in expected.columns:
        left = actual[column].astype(expected[column].dtype)
        pd.testing.assert_series_equal(
            left, expected[column], check_names=False, obj=f"{label} {column}"
        )


def test_online_value_equals_last_offline_row(store, applied_repo, materialized):
    end = materialized
    spec = describe_service(store, "late_delivery_v1")
    events = applied_repo.table("prediction_events")
    sample = events.sample(200, random_state=8).reset_index(drop=True)
    sample["request_time_epoch_s"] = end.timestamp()
    online = online_rows(store, spec, sample)
    expected = expected_online(applied_repo, store, sample, end)
    assert_online_equals(online, expected, "online")
    assert expected["origin_backlog"].notna().all(), "backlog should be fresh at the end"
