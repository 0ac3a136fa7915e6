"""The origin's departure board: how late flights are leaving right now."""

from datetime import timedelta

from entities import origin_airport
from feast import FeatureView, Field, FileSource
from feast.types import Float64, Int64
from locations import DATA

delay_board_batch = FileSource(
    name="origin_delay_board",
    path=str(DATA / "derived/origin_delay_board.parquet"),
    timestamp_field="event_timestamp",
    created_timestamp_column="created_at",
    description="Every 15 min per origin, the last hour of departures, published 5 min later "
    "(built by pipelines.build_batch_features from departures that had already left).",
)

origin_delay_board = FeatureView(
    name="origin_delay_board",
    entities=[origin_airport],
    # Published every 15 minutes: a summary an hour old no longer describes the ramp.
    ttl=timedelta(hours=1),
    schema=[
        Field(
            name="recent_dep_delay_min",
            dtype=Float64,
            description="Mean departure delay (min) of flights that left in the last hour; "
            "null when none left.",
        ),
        Field(
            name="departures_last_hour",
            dtype=Int64,
            description="Flights that left the origin in the last hour.",
        ),
        Field(
            name="overdue_departures",
            dtype=Int64,
            description="Flights scheduled in the last hour that had not left yet.",
        ),
        Field(
            name="day_dep_delay_min",
            dtype=Float64,
            description="Mean departure delay (min) of flights that left since local midnight.",
        ),
        Field(
            name="day_late_departure_share",
            dtype=Float64,
            description="Share of flights that left since local midnight 15+ min late.",
        ),
    ],
    source=delay_board_batch,
    online=True,
    tags={"domain": "flight_delay"},
)
