"""`ontime apply` refuses a FeatureService that reads a future-only field."""

from __future__ import annotations

import pytest

from tests.integration.conftest import make_repo

pytestmark = pytest.mark.integration

LEAKY = '''
"""A service that would train on the outcome it predicts."""
from datetime import timedelta

from entities import shipment
from feast import FeatureService, FeatureView, Field, FileSource
from feast.types import Bool
from locations import DATA
from shipments import shipment_profile

deliveries = FileSource(name="deliveries", path=str(DATA / "raw/deliveries.parquet"),
                        timestamp_field="delivered_at")
shipment_outcomes = FeatureView(
    name="shipment_outcomes", entities=[shipment], ttl=timedelta(days=30), source=deliveries,
    schema=[Field(name="late_complaint", dtype=Bool, description="Customer complained.")],
)
late_delivery_v2 = FeatureService(
    name="late_delivery_v2",
    features=[shipment_profile[["distance_km"]], shipment_outcomes[["late_complaint"]]],
)
'''


def test_apply_refuses_future_only_feature_and_writes_nothing(tmp_path):
    temp = make_repo(tmp_path)
    (temp.repo / "leaky.py").write_text(LEAKY)
    result = temp.ontime("apply", check=False)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert "late_delivery_v2" in message and "late_complaint" in message
    assert not (temp.repo / "data" / "registry.db").exists()


def test_training_time_gate_refuses_leaky_registered_service(tmp_path):
    """The second run of the gate, on the registry, as training calls it."""
    from feast import FeatureStore

    from ontime.errors import LeakageError
    from ontime.leakage import check_registered_service
    from ontime.repo import load_contract, load_repo_module, working_directory

    temp = make_repo(tmp_path)
    (temp.repo / "leaky.py").write_text(LEAKY)
    with working_directory(temp.repo):
        load_repo_module(temp.repo, "transforms")
        store = FeatureStore(repo_path=str(temp.repo))
        from feast.repo_operations import parse_repo

        contents = parse_repo(temp.repo)
        store.apply(
            [
                *contents.entities,
                *contents.feature_views,
                *contents.on_demand_feature_views,
                *contents.feature_services,
            ]
        )
    future = load_contract(temp.repo).future_only_fields
    check_registered_service(store, "late_delivery_v1", future)
    with pytest.raises(LeakageError, match="late_complaint"):
        check_registered_service(store, "late_delivery_v2", future)
