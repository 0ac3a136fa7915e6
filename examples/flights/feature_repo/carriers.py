"""Carrier reliability: a daily rate built only from outcomes already known."""

from datetime import timedelta

from entities import carrier
from feast import FeatureView, Field, FileSource
from feast.types import Float64, Int64
from locations import DATA

carrier_reliability_batch = FileSource(
    name="carrier_reliability",
    path=str(DATA / "derived/carrier_reliability.parquet"),
    timestamp_field="event_timestamp",
    created_timestamp_column="created_at",
    description="Daily carrier late rate built by pipelines.build_batch_features at 01:00 local.",
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
            description="Smoothed share of the carrier's flights arriving 15+ min late, from "
            "outcomes known in the 28 days before the day began.",
        ),
        Field(
            name="carrier_labels_28d",
            dtype=Int64,
            description="How many outcomes the 28-day rate is based on.",
        ),
    ],
    source=carrier_reliability_batch,
    online=True,
    tags={"domain": "flight_delay"},
)
