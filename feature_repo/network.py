"""Network-level features: warehouse congestion and carrier reliability."""

from datetime import timedelta

from entities import carrier, origin_warehouse
from feast import FeatureView, Field
from feast.types import Float64, Int64
from locations import table_path

from ontime.sources import batch_source

backlog_batch = batch_source(
    name="warehouse_backlog",
    path=table_path("raw/warehouse_backlog.parquet"),
    timestamp_field="event_timestamp",
    created_timestamp_column="created_at",
    description=(
        "Hourly parcels-waiting count per warehouse; late corrections carry a later created_at."
    ),
)
carrier_reliability_batch = batch_source(
    name="carrier_reliability",
    path=table_path("derived/carrier_reliability.parquet"),
    timestamp_field="event_timestamp",
    created_timestamp_column="created_at",
    description="Daily carrier late rate built by pipelines.build_batch_features.",
)

warehouse_backlog = FeatureView(
    name="warehouse_backlog",
    entities=[origin_warehouse],
    # Hourly feed: a report older than three hours no longer describes the dock.
    ttl=timedelta(hours=3),
    schema=[
        Field(
            name="origin_backlog",
            dtype=Float64,
            description="Parcels waiting at the origin that hour (measured, never filled).",
        ),
    ],
    source=backlog_batch,
    online=True,
    tags={"domain": "late_delivery"},
)

carrier_reliability = FeatureView(
    name="carrier_reliability",
    entities=[carrier],
    # Daily job: one missed run is tolerated, two are not.
    ttl=timedelta(days=2),
    schema=[
        Field(
            name="carrier_late_rate_28d",
            dtype=Float64,
            description="Smoothed late share of carrier labels arrived in the last 28 days.",
        ),
        Field(
            name="carrier_labels_28d",
            dtype=Int64,
            description="How many labels the 28-day rate is based on.",
        ),
    ],
    source=carrier_reliability_batch,
    online=True,
    tags={"domain": "late_delivery"},
)
