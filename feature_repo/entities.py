"""Entities of the delivery network."""

from feast import Entity, ValueType

shipment = Entity(
    name="shipment",
    join_keys=["order_id"],
    value_type=ValueType.STRING,
    description="One customer order travelling from a warehouse to a destination.",
)
carrier = Entity(
    name="carrier",
    join_keys=["carrier_id"],
    value_type=ValueType.STRING,
    description="The company moving the parcel.",
)
origin_warehouse = Entity(
    name="origin_warehouse",
    join_keys=["origin_warehouse"],
    value_type=ValueType.STRING,
    description="The warehouse a parcel ships from.",
)
