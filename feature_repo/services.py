"""FeatureServices: each one is a model's versioned input contract."""

from feast import FeatureService
from feast.feature_logging import LoggingConfig
from feast.infra.offline_stores.file_source import FileLoggingDestination
from locations import DATA
from network import carrier_reliability, warehouse_backlog
from shipments import scan_staleness, shipment_profile

late_delivery_v1 = FeatureService(
    name="late_delivery_v1",
    features=[
        shipment_profile[["carrier", "distance_km", "expedited"]],
        warehouse_backlog[["origin_backlog"]],
        carrier_reliability[["carrier_late_rate_28d"]],
        scan_staleness,
    ],
    logging_config=LoggingConfig(
        destination=FileLoggingDestination(path=str(DATA / "logs/late_delivery_v1"))
    ),
    description="Will this order arrive after its promised day? Inputs of the late-delivery model.",
)
