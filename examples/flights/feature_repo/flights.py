"""Per-flight features: the published schedule, and the lead time of each prediction."""

from datetime import timedelta

from entities import flight
from feast import FeatureView, Field, FileSource, RequestSource
from feast.on_demand_feature_view import on_demand_feature_view
from feast.types import Float64, Int64, String
from locations import DATA

schedule_batch = FileSource(
    name="flight_schedule",
    path=str(DATA / "raw/flight_schedule.parquet"),
    timestamp_field="event_timestamp",
    created_timestamp_column="created_at",
    description="One row per scheduled departure, as loaded into operations before the day.",
)

flight_schedule = FeatureView(
    name="flight_schedule",
    entities=[flight],
    # The schedule is loaded three days ahead; a row older than a week is a flight long gone.
    ttl=timedelta(days=7),
    schema=[
        Field(name="carrier", dtype=String, description="Operating airline (two-letter code)."),
        Field(name="origin", dtype=String, description="New York departure airport."),
        Field(name="dest", dtype=String, description="Destination airport (FAA code)."),
        Field(
            name="distance_miles",
            dtype=Float64,
            description="Great-circle distance origin to destination, miles.",
        ),
        Field(
            name="sched_dep_hour",
            dtype=Float64,
            description="Scheduled departure, New York local clock hours (7.5 = 07:30).",
        ),
        Field(
            name="day_of_week",
            dtype=Int64,
            description="Scheduled departure weekday, New York local (0 = Monday).",
        ),
        Field(
            name="origin_departures_in_hour",
            dtype=Int64,
            description="Departures the schedule has at the same origin in the same local hour.",
        ),
        Field(
            name="sched_dep_epoch_s",
            dtype=Float64,
            description="Unix time of the scheduled departure (input of the lead-time view).",
        ),
    ],
    source=schedule_batch,
    online=True,
    tags={"domain": "flight_delay"},
)

prediction_request = RequestSource(
    name="flight_prediction_request",
    schema=[
        Field(
            name="request_time_epoch_s",
            dtype=Float64,
            description="Unix time at which the prediction is asked (the prediction time).",
        ),
    ],
)


@on_demand_feature_view(
    sources=[flight_schedule, prediction_request],
    # Feast 0.67 compares declared ODFV fields with inferred ones *including* the description,
    # and inferred fields have none, so the description of the output lives on the view.
    schema=[Field(name="hours_until_departure", dtype=Float64)],
    mode="python",
    description="hours_until_departure: hours from the prediction time to the scheduled "
    "departure, capped at 24.",
)
def departure_lead(inputs: dict[str, list]) -> dict[str, list]:
    # Imports live in the body: Feast 0.67 may rebuild a UDF from its source text with only
    # numpy and pandas in scope, so the body must be self-contained.
    import numpy as np
    from transforms import hours_until_departure

    # float64 turns Feast None (no schedule) into NaN; NaN goes back as None, the Feast null.
    hours = hours_until_departure(
        np.asarray(inputs["sched_dep_epoch_s"], dtype="float64"),
        np.asarray(inputs["request_time_epoch_s"], dtype="float64"),
    )
    return {"hours_until_departure": [None if np.isnan(h) else h for h in hours.tolist()]}
