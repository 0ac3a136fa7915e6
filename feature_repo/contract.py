"""The late-delivery feature contract: one definition, used by training and serving alike."""

from datetime import timedelta

from transforms import SCAN_AGE_CAP_HOURS

from ontime.contract import FeatureContract, FeatureRule

CONTRACT = FeatureContract(
    rules=(
        # Unseen carriers map to "other"; an order without a carrier is malformed.
        FeatureRule("carrier", kind="categorical", missing="reject"),
        FeatureRule("distance_km", kind="numeric", missing="reject", allowed_range=(0.0, 20_000.0)),
        FeatureRule(
            "hours_since_last_scan",
            kind="numeric",
            missing="indicator",
            cap=SCAN_AGE_CAP_HOURS,
            allowed_range=(0.0, None),
        ),
        # Measured values only: an outage is not an empty dock, so never fill with 0.
        FeatureRule(
            "origin_backlog",
            kind="numeric",
            missing="indicator",
            allowed_range=(0.0, None),
            max_age=timedelta(hours=3),
        ),
        # The order system writes expedited=false unless the service was bought.
        FeatureRule(
            "expedited",
            kind="boolean",
            missing="default",
            default=False,
            source_guarantees_default=True,
        ),
        FeatureRule(
            "carrier_late_rate_28d",
            kind="numeric",
            missing="indicator",
            allowed_range=(0.0, 1.0),
            max_age=timedelta(days=2),
        ),
    ),
    # Facts that exist only after the parcel arrives: no feature may read them.
    future_only_fields=frozenset(
        {"delivered_at", "delivered_after_promise", "late_complaint", "label_available_at"}
    ),
    request_time_field="request_time_epoch_s",
)
