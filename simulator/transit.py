"""How parcels move: pickup, line-haul, hub stalls and delivery on the carriers' calendar.

Times are whole unix epoch seconds (``int64``); every function works on whole arrays, one
row per shipment.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np

from simulator import faults as fault_lib
from simulator.faults import FaultWindow

DAY_S, HOUR_S = 86_400, 3_600
HOLIDAYS = (date(2026, 6, 19), date(2026, 7, 3), date(2026, 9, 7))
HOLIDAY_DAYS = np.array(sorted((h - date(1970, 1, 1)).days for h in HOLIDAYS))
Orders = dict[str, np.ndarray]  # one array per shipment attribute, aligned by position


def weekday(epoch_day: np.ndarray) -> np.ndarray:
    """Monday = 0; 1970-01-01 was a Thursday."""
    return (epoch_day + 3) % 7


def closed_days(first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Count days in ``[first, last]`` with no pickups or deliveries: Sundays and holidays."""
    sundays = (last - 3) // 7 - (first - 4) // 7  # epoch day 3 was a Sunday
    holidays = np.searchsorted(HOLIDAY_DAYS, last, "right") - np.searchsorted(HOLIDAY_DAYS, first)
    return sundays + holidays


def add_open_days(day: np.ndarray, count: np.ndarray) -> np.ndarray:
    """The day ``count`` open days after ``day``: promises skip Sundays and holidays."""
    due = day + count
    for _ in range(4):  # converges fast because closed days are rare
        due = day + count + closed_days(day + 1, due)
    return due


def next_open(t_s: np.ndarray, rng: np.random.Generator, hours: tuple[float, float]) -> np.ndarray:
    """Move times on closed days to the next open day, at a random hour in ``hours``."""
    t_s, opening = t_s.copy(), seconds(rng.uniform(*hours, t_s.size))
    for _ in range(3):  # a holiday Monday after a Sunday needs two hops
        day = t_s // DAY_S
        shut = closed_days(day, day) > 0
        t_s[shut] = (day[shut] + 1) * DAY_S + opening[shut]
    return t_s


def seconds(hours: np.ndarray) -> np.ndarray:
    """Hours -> whole seconds."""
    return (hours * HOUR_S).astype(np.int64)


def move(faults: Sequence[FaultWindow], rng: np.random.Generator, ship: Orders) -> np.ndarray:
    """Scan times (n x 7): label, pickup, 3 hub slots (-1 if unused), out, delivered.

    Uses the shipment's ``excess_backlog`` at the origin and its carrier's ``unreliability``
    that day; both slow it down and make a stall at a hub likelier.
    """
    n, expedited, distance = ship["created"].size, ship["expedited"], ship["distance"]
    excess, unreliable = ship["excess_backlog"], ship["unreliability"]
    label = ship["created"] + rng.integers(60, 1200, n)
    pickup_h = np.where(expedited, 0.5 + rng.exponential(2.0, n), 2 + rng.exponential(4.0, n))
    pickup = label + seconds(pickup_h + 16 * excess * rng.uniform(0.5, 1.5, n))
    # Saturday pickups run a thin crew; Sundays and holidays have none.
    saturday = weekday(pickup // DAY_S) == 5
    pickup = next_open(pickup + saturday * seconds(rng.uniform(6, 24, n)), rng, (8, 12))
    speed = np.where(expedited, 2400.0, 900.0)  # km per day
    linehaul_h = (24 * distance / speed + 4) * (1 + 1.5 * unreliable)
    linehaul_h *= rng.lognormal(0.0, 0.35, n) * fault_lib.transit_factor(faults, ship["day"])
    # Reduced weekend and holiday operations stretch the trips that span them.
    linehaul_h += 10 * closed_days(pickup // DAY_S, (pickup + seconds(linehaul_h)) // DAY_S)
    # Some parcels sit at a hub for days; unreliable carriers and congestion make it likelier.
    stuck = rng.random(n) < 0.03 + 0.3 * unreliable + 0.08 * excess
    stuck_h = np.where(stuck, rng.uniform(24.0, 110.0, n), 0.0)
    n_hubs = (1 + (distance > 300) + (distance > 1200))[:, None]
    stuck_after = (rng.integers(0, 3, n)[:, None]) % n_hubs
    hub = np.arange(3)
    hub_h = linehaul_h[:, None] * (hub + 1) / (n_hubs + 1) + stuck_h[:, None] * (hub > stuck_after)
    hubs = np.where(hub < n_hubs, pickup[:, None] + seconds(hub_h), -1)
    arrival = pickup + seconds(linehaul_h + stuck_h)
    # Out for delivery the next morning (same morning if it arrived before 06:00); ~8% miss
    # the van and wait a day more, noise that no feature explains.
    out_day = (arrival - 6 * HOUR_S) // DAY_S + 1 + (rng.random(n) < 0.08)
    out = next_open(out_day * DAY_S + seconds(rng.uniform(7, 10, n)), rng, (7, 10))
    delivered = out + seconds(np.where(expedited, rng.uniform(0.5, 4, n), rng.uniform(1, 9, n)))
    return np.column_stack([label, pickup, hubs, out, delivered])
