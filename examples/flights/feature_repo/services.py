"""FeatureServices: each one is a model's versioned input contract."""

from carriers import carrier_reliability
from departures import origin_delay_board
from feast import FeatureService
from feast.feature_logging import LoggingConfig
from feast.infra.offline_stores.file_source import FileLoggingDestination
from flights import departure_lead, flight_schedule
from locations import DATA
from weather import origin_weather

flight_delay_v1 = FeatureService(
    name="flight_delay_v1",
    features=[
        flight_schedule[
            [
                "carrier",
                "origin",
                "dest",
                "distance_miles",
                "sched_dep_hour",
                "day_of_week",
                "origin_departures_in_hour",
            ]
        ],
        origin_weather[["temp_f", "wind_speed_mph", "precip_in", "visibility_miles"]],
        origin_delay_board[
            [
                "recent_dep_delay_min",
                "departures_last_hour",
                "overdue_departures",
                "day_dep_delay_min",
                "day_late_departure_share",
            ]
        ],
        carrier_reliability[["carrier_late_rate_28d"]],
        departure_lead,
    ],
    logging_config=LoggingConfig(
        destination=FileLoggingDestination(path=str(DATA / "logs/flight_delay_v1"))
    ),
    description="Will this flight arrive 15+ minutes late? Inputs of the flight-delay model.",
)
