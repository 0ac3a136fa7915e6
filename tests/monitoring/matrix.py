"""The scenario matrix: random fault layouts, random window alignments, expected decisions.

Shared by the randomized test (tests/monitoring/test_matrix.py) and its longer version
(benchmarks/bench_monitor_calibration.py). A layout places every simulator fault on days of
its own, drawn at random after the reference period; clean days keep a buffer after each
fault, whose after-effects (late scans, a new carrier's parcels still in transit) linger.
This helper knows the late-delivery domain (tests may; library code may not).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pandas as pd

from tests.monitoring.world import TEST, ScenarioWorld

FAULT_DAYS = {
    "backlog_outage": 2,
    "holiday_surge": 3,
    "stale_scans": 2,
    "online_skew": 2,
    "new_carrier": 2,
}
# Days a fault's traces outlast it: late scans arrive up to 48 h late; parcels created
# during a surge, a skew or with the new carrier are asked about for days.
AFTER_EFFECT = {
    "backlog_outage": 1,
    "stale_scans": 2,
    "holiday_surge": 4,
    "online_skew": 5,
    "new_carrier": 5,
}
MATRIX_DAYS = 60  # worlds of the matrix: room for every fault and clean days after them
LABEL_DAYS = 6  # a clean day is this far from the world's end, so its labels can arrive
FIRST_FAULT_DAY = TEST[1] + 2  # the days right after the reference period stay clean


@dataclass(frozen=True)
class Window:
    kind: str  # "clean" or a fault name
    start: pd.Timestamp
    hours: float
    fault_day: int | None = None  # which day of its fault the window starts on (0 = first)
    fault_hours: float | None = None  # hours between the fault's start and the window's

    @property
    def end(self) -> pd.Timestamp:
        return self.start + pd.Timedelta(hours=self.hours)


def draw_faults(rng: random.Random, days: int) -> dict[str, tuple[int, int]]:
    """Every fault on days of its own, in a random order with random gaps.

    Faults whose parcels stay in transit for days (online skew's mis-stated distances, the
    new carrier's parcels) come last, a week apart, so their after-effects do not fall
    into another fault's days.
    """
    early, late = ["backlog_outage", "stale_scans", "holiday_surge"], ["online_skew", "new_carrier"]
    rng.shuffle(early)
    rng.shuffle(late)
    faults, day = {}, FIRST_FAULT_DAY + rng.randint(0, 1)
    for name in early:
        faults[name] = (day, day + FAULT_DAYS[name])
        day += FAULT_DAYS[name] + rng.randint(1, 2)
    for name in late:
        faults[name] = (day, day + FAULT_DAYS[name])
        day += FAULT_DAYS[name] + AFTER_EFFECT[name] + 1
    if faults[late[-1]][1] > days:
        raise ValueError(f"the faults need {faults[late[-1]][1]} days; the world has {days}")
    return faults


def clean_days(faults: dict[str, tuple[int, int]], days: int) -> list[int]:
    """Days after the reference period untouched by any fault or its after-effects."""
    touched = {
        day for name, (a, b) in faults.items() for day in range(a - 1, b + AFTER_EFFECT[name])
    }
    return [d for d in range(TEST[1], days - LABEL_DAYS) if d not in touched]


def draw_windows(
    rng: random.Random,
    world: ScenarioWorld,
    faults: dict[str, tuple[int, int]],
    days: int,
    clean: int,
    per_fault: int,
    hours: float = 12.0,
) -> list[Window]:
    """``clean`` clean windows and ``per_fault`` windows of each fault, at random hours.

    A fault window lies wholly inside its fault's days, starting on any of them.
    """
    windows = []
    quiet = clean_days(faults, days)
    for _ in range(clean):
        start = rng.choice(quiet) * 24 + rng.randint(0, 23)
        windows.append(Window("clean", world.day(start / 24), hours))
    for name, (first, last) in faults.items():
        for _ in range(per_fault):
            start = rng.randint(first * 24, int(last * 24 - hours))
            since = start - first * 24
            windows.append(Window(name, world.day(start / 24), hours, since // 24, since))
    return windows


def met(window: Window, summary, labelled: bool) -> bool:
    """Whether a window's summary is what its scenario expects."""
    action = summary.action
    found = {(a.check, a.feature) for a in summary.alarms}
    if window.kind == "clean":
        return action == "ok"
    if window.kind == "backlog_outage":
        return action == "block" and "origin_backlog" in summary.decision.features
    if window.kind == "stale_scans":  # block naming the scan feature, or a freshness alarm
        fresh = ("freshness", "hours_since_last_scan") in found
        named = "hours_since_last_scan" in summary.decision.features
        return (action == "block" and named) or (action in {"block", "inspect"} and fresh)
    if window.kind == "new_carrier":
        return ("unseen_category", "carrier") in found
    if window.kind == "online_skew":
        return action == "repair_parity" and "distance_km" in summary.decision.features
    if window.kind == "holiday_surge":
        return action == ("retrain" if labelled else "inspect")
    raise ValueError(window.kind)


def monitor_window(world: ScenarioWorld, window: Window, labels_as_of: pd.Timestamp | None):
    """``monitor`` on one window, without Evidently's pages and on a small parity sample."""
    from monitoring.run import monitor
    from simulator.transit import HOLIDAYS

    checks = world.settings.monitoring
    checks = checks.model_copy(
        update={
            "drift": checks.drift.model_copy(update={"evidently_reports": False}),
            "parity": checks.parity.model_copy(update={"sample_rows": 400}),
            # the world's calendar, as a team configures its own (also in config_text)
            "profile": checks.profile.model_copy(update={"holidays": list(HOLIDAYS)}),
        }
    )
    settings = world.settings.model_copy(update={"monitoring": checks})
    return monitor(
        settings,
        window.start.to_pydatetime(),
        window.end.to_pydatetime(),
        reference=world.reference,
        labels_as_of=labels_as_of.to_pydatetime() if labels_as_of is not None else None,
        store=world.store,
    )
