"""The flight-delay feature contract: one definition, used by training and serving alike."""

from datetime import timedelta

from ontime.contract import FeatureContract, FeatureRule

CONTRACT = FeatureContract(
    rules=(
        # The schedule always names carrier, origin and destination: without them the row is
        # malformed. Values unseen in training (a new route) map to "other".
        FeatureRule("carrier", kind="categorical", missing="reject"),
        FeatureRule("origin", kind="categorical", missing="reject"),
        FeatureRule("dest", kind="categorical", missing="reject"),
        FeatureRule(
            "distance_miles", kind="numeric", missing="reject", allowed_range=(0.0, 6_000.0)
        ),
        FeatureRule("sched_dep_hour", kind="numeric", missing="reject", allowed_range=(0.0, 24.0)),
        FeatureRule("day_of_week", kind="numeric", missing="reject", allowed_range=(0.0, 6.0)),
        FeatureRule(
            "origin_departures_in_hour", kind="numeric", missing="reject", allowed_range=(1.0, None)
        ),
        # Measured values only: a missing observation is not a calm, dry, clear hour, so never
        # fill with 0. Physically impossible readings (the feed has a 1048 mph wind) count as
        # missing rather than as extreme weather.
        FeatureRule(
            "temp_f",
            kind="numeric",
            missing="indicator",
            allowed_range=(-40.0, 130.0),
            max_age=timedelta(hours=3),
        ),
        FeatureRule(
            "wind_speed_mph",
            kind="numeric",
            missing="indicator",
            allowed_range=(0.0, 150.0),
            max_age=timedelta(hours=3),
        ),
        FeatureRule(
            "precip_in",
            kind="numeric",
            missing="indicator",
            allowed_range=(0.0, 10.0),
            max_age=timedelta(hours=3),
        ),
        FeatureRule(
            "visibility_miles",
            kind="numeric",
            missing="indicator",
            allowed_range=(0.0, 10.0),
            max_age=timedelta(hours=3),
        ),
        # How late the origin is sending flights off right now. An hour without departures
        # (night) has no mean delay; that is missing, not zero minutes late.
        FeatureRule(
            "recent_dep_delay_min",
            kind="numeric",
            missing="indicator",
            allowed_range=(-120.0, 1_500.0),
            max_age=timedelta(hours=1),
        ),
        FeatureRule(
            "departures_last_hour",
            kind="numeric",
            missing="indicator",
            allowed_range=(0.0, None),
            max_age=timedelta(hours=1),
        ),
        FeatureRule(
            "overdue_departures",
            kind="numeric",
            missing="indicator",
            allowed_range=(0.0, None),
            max_age=timedelta(hours=1),
        ),
        # Before the first departure of the day there is no day so far: missing, not on time.
        FeatureRule(
            "day_dep_delay_min",
            kind="numeric",
            missing="indicator",
            allowed_range=(-120.0, 1_500.0),
            max_age=timedelta(hours=1),
        ),
        FeatureRule(
            "day_late_departure_share",
            kind="numeric",
            missing="indicator",
            allowed_range=(0.0, 1.0),
            max_age=timedelta(hours=1),
        ),
        FeatureRule(
            "carrier_late_rate_28d",
            kind="numeric",
            missing="indicator",
            allowed_range=(0.0, 1.0),
            max_age=timedelta(days=2),
        ),
        # Asking after the scheduled departure is a malformed request, not a prediction.
        FeatureRule(
            "hours_until_departure",
            kind="numeric",
            missing="reject",
            cap=24.0,
            allowed_range=(0.0, None),
        ),
    ),
    # Facts that exist only once the flight has left or landed: no feature may read them.
    future_only_fields=frozenset(
        {
            "dep_time",
            "dep_delay",
            "dep_delay_min",
            "arr_time",
            "arr_delay",
            "air_time",
            "actual_dep_at",
            "actual_arr_at",
            "arrived_late",
            "label_available_at",
        }
    ),
    request_time_field="request_time_epoch_s",
)
