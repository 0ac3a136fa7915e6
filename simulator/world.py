"""The normal delivery world: backlog, carriers, shipments, scans, deliveries and asks.

All times are whole unix epoch seconds (``int64``), one array row per shipment; they become
``datetime64[us, UTC]`` columns only at the end. Each part draws from its own child
generator of the seed, so switching a fault on changes only what that fault touches.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from simulator import faults as fault_lib
from simulator.faults import FaultWindow
from simulator.transit import DAY_S, HOUR_S, Orders, add_open_days, move, seconds, weekday

logger = logging.getLogger(__name__)

CARRIERS = ("swiftship", "parcelpro", "roadrunner", "bluebox", "northpost")
CARRIER_SHARES = (0.30, 0.25, 0.20, 0.15, 0.10)
CARRIER_RELIABILITY = (0.95, 0.91, 0.87, 0.84, 0.78)
WAREHOUSES = tuple(f"WH-{i:02d}" for i in range(1, 9))
WAREHOUSE_SHARES = (0.20, 0.16, 0.14, 0.12, 0.11, 0.10, 0.09, 0.08)
REGIONS = (
    "north-east",
    "mid-atlantic",
    "south-east",
    "florida",
    "great-lakes",
    "midwest",
    "texas",
    "mountain",
    "california",
    "pacific-nw",
)
N_HUBS = 12
# Orders arrive mostly during waking hours (UTC hour of day -> relative weight).
HOURLY_ORDERS = np.array([1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 8, 8, 8, 8, 7, 7, 6, 5, 4, 3, 2, 1.0])
# Monday carries the weekend's orders; Sunday warehouses are quiet.
WEEKDAY_LOAD = np.array([1.25, 1.10, 1.00, 0.95, 1.00, 0.85, 0.70])
STREAMS = ("backlog", "carrier", "shipments", "transit", "scans", "outcomes", "asks", "faults")
# Index -> name lookups; the last carrier exists only under the new_carrier fault.
CARRIER_NAMES = np.array([*CARRIERS, fault_lib.NEW_CARRIER], dtype=object)
WAREHOUSE_NAMES = np.array(WAREHOUSES, dtype=object)
REGION_NAMES = np.array(REGIONS, dtype=object)
PLACES = np.array(
    [*WAREHOUSES, *(f"HUB-{i:02d}" for i in range(1, N_HUBS + 1)), *(f"DC-{r}" for r in REGIONS)],
    dtype=object,
)
# Seven scan slots per shipment: label, pickup, 3 hubs, out for delivery, delivered.
SLOT_STATUS = np.array(
    ["label_created", "picked_up", *["in_transit"] * 3, "out_for_delivery", "delivered"],
    dtype=object,
)


class SimulationError(ValueError):
    """The simulation cannot run as configured, or its output cannot be written."""


@dataclass(frozen=True)
class SimulationConfig:
    """Everything that determines a world; the same config always gives the same frames."""

    start: datetime = datetime(2026, 6, 1, tzinfo=UTC)
    days: int = 120
    shipments_per_day: int = 1800
    seed: int = 7
    faults: tuple[FaultWindow, ...] = ()

    @property
    def start_s(self) -> int:
        """World start in whole epoch seconds."""
        return int(self.start.timestamp())

    @property
    def end_s(self) -> int:
        """World end (exclusive) in whole epoch seconds."""
        return self.start_s + self.days * DAY_S

    def day_index(self, t_s: np.ndarray) -> np.ndarray:
        """Days since the start: the unit fault windows are written in."""
        return (t_s - self.start_s) // DAY_S


def validate(config: SimulationConfig) -> None:
    """Reject a config with a one-line message that names the problem."""
    if config.days <= 0:
        raise SimulationError(f"days must be positive, got {config.days}")
    if config.shipments_per_day <= 0:
        raise SimulationError(f"shipments_per_day must be positive, got {config.shipments_per_day}")
    if config.start.tzinfo is None:
        raise SimulationError(f"start must be timezone-aware, got naive {config.start}")
    for window in config.faults:
        if problem := fault_lib.window_problem(window, config.days):
            raise SimulationError(problem)


def to_timestamp(epoch_s: np.ndarray) -> pd.DatetimeIndex:
    """Whole epoch seconds -> ``datetime64[us, UTC]`` (Feast's DuckDB store rejects ns)."""
    return pd.DatetimeIndex(np.asarray(epoch_s).astype("datetime64[s]").astype("M8[us]"), tz=UTC)


def _backlog(config: SimulationConfig, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """True hourly backlog (warehouse x hour) and each warehouse's capacity."""
    n_wh, days, n_hours = len(WAREHOUSES), config.days, config.days * 24
    hour_s = config.start_s + np.arange(n_hours, dtype=np.int64) * HOUR_S
    capacity = rng.uniform(250.0, 900.0, n_wh)
    daily = 1 + 0.35 * np.sin(2 * np.pi * ((hour_s // HOUR_S) % 24 - 9) / 24)  # peaks at 15:00
    shape = daily * WEEKDAY_LOAD[weekday(hour_s // DAY_S)]
    shape = shape * fault_lib.backlog_factor(config.faults, config.day_index(hour_s))
    # Congestion episodes (+50-150% for 12-72 h) through a difference array, not a loop.
    first = np.arange(days) * 24 + rng.integers(0, 24, (n_wh, days))
    last = np.minimum(first + rng.integers(12, 73, (n_wh, days)), n_hours)
    size = rng.uniform(0.5, 1.5, (n_wh, days)) * (rng.random((n_wh, days)) < 0.07)
    steps, rows = np.zeros((n_wh, n_hours + 1)), np.arange(n_wh)[:, None]
    np.add.at(steps, (rows, first), size)
    np.add.at(steps, (rows, last), -size)
    congestion = 1 + np.cumsum(steps, axis=1)[:, :n_hours]
    noise = rng.lognormal(0.0, 0.08, (n_wh, n_hours))
    return 0.8 * capacity[:, None] * shape * congestion * noise, capacity


def _backlog_reports(
    config: SimulationConfig, rng: np.random.Generator, backlog: np.ndarray
) -> pd.DataFrame:
    """Hourly reports 5 min after the hour; ~1% re-reported hours later (late backfill)."""
    n_wh, n_hours = backlog.shape
    wh = np.repeat(np.arange(n_wh), n_hours)
    event_s = np.tile(config.start_s + np.arange(n_hours, dtype=np.int64) * HOUR_S, n_wh)
    value = np.round(backlog.ravel())
    late_s = event_s + 300 + seconds(rng.uniform(2.0, 12.0, value.size))
    revised = np.round(value * rng.normal(1.0, 0.12, value.size))
    redo = (rng.random(value.size) < 0.01) & (late_s <= config.end_s)
    created_s = np.r_[event_s + 300, late_s[redo]]
    wh, event_s, value = (
        np.r_[wh, wh[redo]],
        np.r_[event_s, event_s[redo]],
        np.r_[value, revised[redo]],
    )
    order = np.lexsort((created_s, event_s, wh))
    names, event_s = WAREHOUSE_NAMES[wh[order]], event_s[order]
    value = fault_lib.blank_backlog_outage(
        config.faults, config.day_index(event_s), names, value[order]
    )
    return pd.DataFrame(
        {
            "origin_warehouse": names,
            "event_timestamp": to_timestamp(event_s),
            "origin_backlog": value,
            "created_at": to_timestamp(created_s[order]),
        }
    )


def _reliability(config: SimulationConfig, rng: np.random.Generator) -> np.ndarray:
    """Daily on-time reliability per carrier (incumbents, then newco): base + cycle + walk."""
    base = np.array([*CARRIER_RELIABILITY, fault_lib.NEW_CARRIER_RELIABILITY])[:, None]
    period = rng.uniform(30.0, 90.0, (base.size, 1))
    phase = rng.uniform(0.0, 2 * np.pi, (base.size, 1))
    walk = np.cumsum(rng.normal(0.0, 0.006, (base.size, config.days)), axis=1)
    cycle = 0.04 * np.sin(2 * np.pi * np.arange(config.days) / period + phase)
    return np.clip(base + cycle + walk, 0.55, 0.99)


def _shipments(config: SimulationConfig, rng: np.random.Generator) -> Orders:
    """Orders in creation order, with carrier, origin, destination, distance and promise."""
    n = config.days * config.shipments_per_day
    day = np.repeat(np.arange(config.days, dtype=np.int64), config.shipments_per_day)
    hour = rng.choice(24, n, p=HOURLY_ORDERS / HOURLY_ORDERS.sum())
    created = np.sort(config.start_s + day * DAY_S + hour * HOUR_S + rng.integers(0, HOUR_S, n))
    day = config.day_index(created)
    carrier = rng.choice(len(CARRIERS), n, p=CARRIER_SHARES)
    carrier = fault_lib.assign_new_carrier(
        config.faults, day, carrier, rng.random(n), len(CARRIERS)
    )
    distance = np.round(np.clip(rng.lognormal(np.log(350.0), 0.9, n), 20.0, 3000.0), 1)
    expedited = rng.random(n) < 0.15
    # Promised open days: expedited 1-2, standard 2-5 growing with distance.
    promise = np.where(expedited, 1 + (distance > 600), np.clip(2 + distance // 700, 2, 5))
    due_day = add_open_days(created // DAY_S, promise.astype(np.int64))
    return {
        "order_id": np.char.mod("O-%07d", np.arange(1, n + 1)).astype(object),
        "created": created,
        "day": day,
        "carrier": carrier,
        "warehouse": rng.choice(len(WAREHOUSES), n, p=WAREHOUSE_SHARES),
        "region": rng.integers(0, len(REGIONS), n),
        "distance": distance,
        "expedited": expedited,
        "promised": (due_day + 1) * DAY_S - 1,  # last second of the promised day
    }


def _scans(
    config: SimulationConfig, rng: dict[str, np.random.Generator], ship: Orders, times: np.ndarray
) -> pd.DataFrame:
    """One row per scan that reached our systems by the world end, sorted by order and time."""
    origin, depot = ship["warehouse"][:, None], len(WAREHOUSES) + N_HUBS + ship["region"]
    hub = len(WAREHOUSES) + rng["scans"].integers(0, N_HUBS, (times.shape[0], 3))
    where = np.column_stack([origin, origin, hub, depot, depot])
    # Row-major nonzero keeps shipments in order_id order and scans in time order.
    row, col = np.nonzero(times >= 0)
    scan_s = times[row, col]
    ingested = scan_s + 30 + rng["scans"].exponential(180.0, scan_s.size).astype(np.int64)
    ingested = fault_lib.delay_stale_scans(
        config.faults,
        config.day_index(scan_s),
        CARRIER_NAMES[ship["carrier"][row]],
        ingested,
        scan_s,
        rng["faults"],
    )
    keep = ingested <= config.end_s
    row, col, scan_s = row[keep], col[keep], scan_s[keep]
    return pd.DataFrame(
        {
            "order_id": ship["order_id"][row],
            "scan_at": to_timestamp(scan_s),
            "ingested_at": to_timestamp(ingested[keep]),
            "location": PLACES[where[row, col]],
            "status": SLOT_STATUS[col],
            "last_scan_epoch_s": scan_s.astype(np.float64),
        }
    )


def _deliveries(config: SimulationConfig, rng: np.random.Generator, ship: Orders) -> pd.DataFrame:
    """Delivered shipments with the late label, when that label arrives, and complaints."""
    delivered, promised = ship["delivered"], ship["promised"]
    late = delivered > promised
    days_late = np.clip((delivered - promised) / DAY_S, 0, 3)
    complaint = rng.random(late.size) < np.where(late, 0.25 + 0.1 * days_late, 0.02)
    # Labels arrive 1-4 days after delivery, skewed towards the early end.
    label_s = delivered + (DAY_S * (1 + 3 * rng.beta(1.5, 4.0, late.size))).astype(np.int64)
    keep = delivered < config.end_s
    return pd.DataFrame(
        {
            "order_id": ship["order_id"][keep],
            "delivered_at": to_timestamp(delivered[keep]),
            "delivered_after_promise": late[keep],
            "label_available_at": to_timestamp(label_s[keep]),
            "late_complaint": complaint[keep],
        }
    )


def _asks(config: SimulationConfig, rng: np.random.Generator, ship: Orders) -> pd.DataFrame:
    """1-3 prediction times per shipment while it is in transit: the entity frame."""
    low = ship["created"] + HOUR_S
    high = np.minimum(np.minimum(ship["promised"], ship["delivered"]), config.end_s)
    count = rng.integers(1, 4, low.size)[:, None]
    ask_s = low[:, None] + (rng.random((low.size, 3)) * (high - low)[:, None]).astype(np.int64)
    ask_s = np.sort(np.where((np.arange(3) >= count) | (high <= low)[:, None], -1, ask_s), axis=1)
    # Two asks can land on the same second; the frame is unique on (order, time).
    repeat = np.column_stack([np.zeros(low.size, bool), np.diff(ask_s) == 0])
    row, col = np.nonzero((ask_s >= 0) & ~repeat)
    return pd.DataFrame(
        {
            "order_id": ship["order_id"][row],
            "carrier_id": CARRIER_NAMES[ship["carrier"][row]],
            "origin_warehouse": WAREHOUSE_NAMES[ship["warehouse"][row]],
            "prediction_time": to_timestamp(ask_s[row, col]),
        }
    )


def generate(config: SimulationConfig) -> dict[str, pd.DataFrame]:
    """Build every raw table of the world in memory; pure, no I/O."""
    validate(config)
    seeds = np.random.SeedSequence(config.seed).spawn(len(STREAMS))
    rng = {name: np.random.default_rng(s) for name, s in zip(STREAMS, seeds, strict=True)}
    backlog, capacity = _backlog(config, rng["backlog"])
    reliability = _reliability(config, rng["carrier"])
    ship = _shipments(config, rng["shipments"])
    # Congestion at the origin when the order is placed: backlog beyond capacity.
    wh, hour = ship["warehouse"], (ship["created"] - config.start_s) // HOUR_S
    ship["excess_backlog"] = np.maximum(backlog[wh, hour] / capacity[wh] - 1.0, 0.0)
    ship["unreliability"] = 1.0 - reliability[ship["carrier"], ship["day"]]
    times = move(config.faults, rng["transit"], ship)
    ship["delivered"] = times[:, -1]
    shipments = pd.DataFrame(
        {
            "order_id": ship["order_id"],
            "created_at": to_timestamp(ship["created"]),
            "carrier": CARRIER_NAMES[ship["carrier"]],
            "origin_warehouse": WAREHOUSE_NAMES[wh],
            "dest_region": REGION_NAMES[ship["region"]],
            "distance_km": ship["distance"],
            "expedited": ship["expedited"],
            "promised_by": to_timestamp(ship["promised"]),
        }
    )
    stream_km = fault_lib.skew_stream_distance(config.faults, ship["day"], ship["distance"])
    frames = {
        "shipments": shipments,
        "shipment_stream": shipments.assign(distance_km=stream_km),
        "scan_events": _scans(config, rng, ship, times),
        "warehouse_backlog": _backlog_reports(config, rng["backlog"], backlog),
        "deliveries": _deliveries(config, rng["outcomes"], ship),
        "prediction_events": _asks(config, rng["asks"], ship),
    }
    logger.info("generated world: %s", {name: len(f) for name, f in frames.items()})
    return frames
