"""Hourly weather at the departure airport."""

from datetime import timedelta

from entities import origin_airport
from feast import FeatureView, Field, FileSource
from feast.types import Float64
from locations import DATA

weather_batch = FileSource(
    name="origin_weather",
    path=str(DATA / "raw/origin_weather.parquet"),
    timestamp_field="event_timestamp",
    created_timestamp_column="created_at",
    description="Hourly METAR observation per New York airport; created_at is when it was "
    "published, a few minutes after the hour it describes.",
)

origin_weather = FeatureView(
    name="origin_weather",
    entities=[origin_airport],
    # Hourly feed: an observation older than three hours no longer describes the airfield.
    ttl=timedelta(hours=3),
    schema=[
        Field(name="temp_f", dtype=Float64, description="Air temperature, degrees Fahrenheit."),
        Field(
            name="wind_speed_mph",
            dtype=Float64,
            description="Sustained wind speed, mph (the raw feed has impossible outliers).",
        ),
        Field(name="precip_in", dtype=Float64, description="Precipitation that hour, inches."),
        Field(name="visibility_miles", dtype=Float64, description="Visibility, statute miles."),
    ],
    source=weather_batch,
    online=True,
    tags={"domain": "flight_delay"},
)
