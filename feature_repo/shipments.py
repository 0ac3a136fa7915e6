"""Per-shipment features: the order profile, its scan trail, and time since the last scan."""

from datetime import timedelta

import pandas as pd
from entities import shipment
from feast import FeatureView, Field, FileSource, PushSource, RequestSource
from feast.on_demand_feature_view import on_demand_feature_view
from feast.types import Bool, Float64, String
from locations import DATA
from transforms import hours_since_last_scan as _hours_since_last_scan

shipments_batch = FileSource(
    name="shipments",
    path=str(DATA / "raw/shipments.parquet"),
    timestamp_field="created_at",
    description="Orders as the order system records them when the delivery promise is made.",
)
shipment_stream = PushSource(
    name="shipment_stream",
    batch_source=shipments_batch,
    description="Real-time order feed pushed straight to the online store.",
)
scans_batch = FileSource(
    name="scan_events",
    path=str(DATA / "raw/scan_events.parquet"),
    timestamp_field="scan_at",
    created_timestamp_column="ingested_at",
    description="Carrier scan events; ingested_at is when the scan reached us.",
)
scan_stream = PushSource(
    name="scan_stream",
    batch_source=scans_batch,
    description="Scan events pushed as they arrive, so the last scan is fresh online.",
)

shipment_profile = FeatureView(
    name="shipment_profile",
    entities=[shipment],
    # An order is closed well within a month; older profiles are not served.
    ttl=timedelta(days=30),
    schema=[
        Field(name="carrier", dtype=String, description="Carrier chosen for the order."),
        Field(
            name="distance_km",
            dtype=Float64,
            description="Route distance origin to destination, km.",
        ),
        Field(
            name="expedited",
            dtype=Bool,
            description="Paid expedited service; the order system writes false when not bought.",
        ),
        Field(
            name="dest_region", dtype=String, description="Destination region (not a model input)."
        ),
    ],
    source=shipment_stream,
    online=True,
    tags={"domain": "late_delivery"},
)

shipment_scans = FeatureView(
    name="shipment_scans",
    entities=[shipment],
    # Longer than the 168 h cap, so an old scan caps the feature instead of vanishing.
    ttl=timedelta(days=8),
    schema=[
        Field(
            name="last_scan_epoch_s",
            dtype=Float64,
            description="Unix time of the latest known scan.",
        ),
        Field(name="status", dtype=String, description="Status reported by the latest scan."),
    ],
    source=scan_stream,
    online=True,
    tags={"domain": "late_delivery"},
)

prediction_request = RequestSource(
    name="prediction_request",
    schema=[
        Field(
            name="request_time_epoch_s",
            dtype=Float64,
            description="Unix time at which the prediction is asked (the prediction time).",
        ),
    ],
)


@on_demand_feature_view(
    sources=[shipment_scans, prediction_request],
    # Feast 0.67 compares declared ODFV fields with inferred ones *including* the description,
    # and inferred fields have none, so the output field's description lives on the view.
    schema=[Field(name="hours_since_last_scan", dtype=Float64)],
    mode="pandas",
    description="hours_since_last_scan: hours from the last scan to the prediction time, "
    "capped at 168 (stale movement).",
)
def scan_staleness(inputs: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame()
    out["hours_since_last_scan"] = _hours_since_last_scan(
        inputs["last_scan_epoch_s"], inputs["request_time_epoch_s"]
    )
    return out
