"""A deliberately leaky FeatureService, kept OUT of feature_repo/ on purpose.

``ontime apply`` runs the leakage gate on every FeatureService of the repo before
``feast apply``, and one leaky service makes it refuse the whole repo. So this module lives
beside the repo: copy it into ``feature_repo/`` to watch the gate refuse it (the flights
test does exactly that in a temp copy), and delete it again to apply.

Departure delay is a tempting input: it "predicts" arrival delay very well, because it is
most of it. But it is only known once the flight has left, after every prediction time.
"""

from datetime import timedelta

from entities import flight
from feast import FeatureService, FeatureView, Field, FileSource
from feast.types import Float64
from flights import flight_schedule
from locations import DATA

flight_outcomes_batch = FileSource(
    name="flight_outcomes",
    path=str(DATA / "raw/flight_outcomes.parquet"),
    # Keyed by the scheduled departure, so a naive point-in-time join happily finds it.
    timestamp_field="sched_dep_at",
    description="Outcomes as recorded after arrival (the label table).",
)

flight_outcomes = FeatureView(
    name="flight_outcomes",
    entities=[flight],
    ttl=timedelta(days=7),
    schema=[
        Field(name="dep_delay", dtype=Float64, description="Departure delay, minutes."),
    ],
    source=flight_outcomes_batch,
    online=False,
)

flight_delay_leaky_v1 = FeatureService(
    name="flight_delay_leaky_v1",
    features=[
        flight_schedule[["carrier", "origin", "distance_miles"]],
        flight_outcomes[["dep_delay"]],
    ],
    description="DO NOT USE: reads the departure delay, known only after departure.",
)
