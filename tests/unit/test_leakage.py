"""The leakage gate on in-memory Feast objects."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from feast import (
    Entity,
    FeatureService,
    FeatureView,
    Field,
    FileSource,
    RequestSource,
    ValueType,
)
from feast.on_demand_feature_view import on_demand_feature_view
from feast.types import Bool, Float64

from ontime.errors import LeakageError
from ontime.leakage import assert_no_leaks, find_leaks

FUTURE = {"delivered_at", "late_complaint", "delivered_after_promise", "label_available_at"}
shipment = Entity(name="shipment", join_keys=["order_id"], value_type=ValueType.STRING)
outcomes = FileSource(
    name="deliveries", path="/nowhere/deliveries.parquet", timestamp_field="delivered_at"
)
profile = FileSource(
    name="shipments", path="/nowhere/shipments.parquet", timestamp_field="created_at"
)

outcome_view = FeatureView(
    name="shipment_outcomes",
    entities=[shipment],
    ttl=timedelta(days=30),
    source=outcomes,
    schema=[Field(name="late_complaint", dtype=Bool, description="complaint filed")],
)
profile_view = FeatureView(
    name="shipment_profile",
    entities=[shipment],
    ttl=timedelta(days=30),
    source=profile,
    schema=[Field(name="distance_km", dtype=Float64, description="route length")],
)
# A renamed future field must still be caught: the check follows the field mapping.
renamed_source = FileSource(
    name="deliveries_renamed",
    path="/nowhere/deliveries.parquet",
    timestamp_field="label_available_at",
    field_mapping={"delivered_after_promise": "was_late"},
)
renamed_view = FeatureView(
    name="renamed_outcomes",
    entities=[shipment],
    ttl=timedelta(days=30),
    source=renamed_source,
    schema=[Field(name="was_late", dtype=Bool, description="label in disguise")],
)
request = RequestSource(name="req", schema=[Field(name="request_time_epoch_s", dtype=Float64)])


@on_demand_feature_view(
    sources=[outcome_view, request], schema=[Field(name="complained_recently", dtype=Float64)]
)
def complaint_flag(inputs: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"complained_recently": inputs["late_complaint"].astype(float)})


VIEWS = {v.name: v for v in (outcome_view, profile_view, renamed_view)}
ODFVS = {complaint_flag.name: complaint_flag}


def test_clean_service_passes():
    service = FeatureService(name="clean_v1", features=[profile_view])
    assert find_leaks(service, VIEWS, ODFVS, FUTURE) == []


def test_future_only_feature_is_refused_by_name():
    service = FeatureService(name="leaky_v1", features=[profile_view, outcome_view])
    with pytest.raises(LeakageError, match="late_complaint") as info:
        assert_no_leaks(service, VIEWS, ODFVS, FUTURE)
    assert "leaky_v1" in str(info.value)
    assert "distance_km" not in str(info.value)


def test_renamed_future_field_is_refused_through_the_field_mapping():
    service = FeatureService(name="sneaky_v1", features=[renamed_view])
    leaks = find_leaks(service, VIEWS, ODFVS, FUTURE)
    assert len(leaks) == 1
    assert "was_late" in leaks[0] and "delivered_after_promise" in leaks[0]


def test_on_demand_view_over_a_future_field_is_refused():
    service = FeatureService(name="indirect_v1", features=[complaint_flag])
    leaks = find_leaks(service, VIEWS, ODFVS, FUTURE)
    assert len(leaks) == 1
    assert "late_complaint" in leaks[0] and "complaint_flag" in leaks[0]
