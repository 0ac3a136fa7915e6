"""Entities of the NYC departures domain."""

from feast import Entity, ValueType

flight = Entity(
    name="flight",
    join_keys=["flight_id"],
    value_type=ValueType.STRING,
    description="One scheduled departure: date, carrier, flight number, origin and time.",
)
origin_airport = Entity(
    name="origin_airport",
    join_keys=["origin_airport"],
    value_type=ValueType.STRING,
    description="The New York airport a flight leaves from (EWR, JFK or LGA).",
)
carrier = Entity(
    name="carrier",
    join_keys=["carrier_code"],
    value_type=ValueType.STRING,
    description="The airline operating the flight (two-letter code).",
)
