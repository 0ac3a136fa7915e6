"""``ontime demo``: the whole loop on the embedded defaults, in a few minutes.

simulate a world whose later days carry a fault -> apply -> train, gate, promote ->
serve (a real uvicorn process) -> replay a clean window, then a faulty one, through the
online store as it was at the time -> monitor both -> say where the reports are and what
was decided. It starts from a clean slate: the embedded registry, logs, snapshots and
reports of earlier runs are removed (they are generated files, never data you own).
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from ontime.settings import Settings

log = logging.getLogger(__name__)

DEMO_FAULT = "backlog_outage"


@dataclass(frozen=True)
class ReplayWindow:
    name: str
    start: datetime
    end: datetime


def clean_slate(settings: Settings) -> None:
    """Remove generated state of earlier runs so the new world starts clean."""
    from ontime.repo import reset_feature_store

    registry = settings.training.registry
    for path in (
        settings.serving.log_dir,
        registry.artifact_dir,
        registry.audit_log.parent,
        settings.training.snapshot_dir,
        settings.monitoring.reports_dir,
    ):
        shutil.rmtree(path, ignore_errors=True)
    registry.mlflow_db.unlink(missing_ok=True)
    reset_feature_store(settings.feature_repo, settings.profile)


def serve_and_monitor(
    settings: Settings,
    config: Path | None,
    windows: Sequence[ReplayWindow],
    echo: Callable[[str], None] = log.info,
) -> dict[str, object]:
    """Replay each window through a real service (in time order), then monitor each."""
    from monitoring.run import monitor
    from ontime.repo import describe_service, open_store
    from ontime_cli.launcher import ServiceProcess
    from serving.clock import OnlineClock, replay_with_clock

    store = open_store(settings.feature_repo, settings.serving.feature_store_yaml)
    keys = list(describe_service(store, settings.feature_service).entity_keys)
    events = pd.read_parquet(settings.events.table)
    times = pd.to_datetime(events[settings.events.time_column], utc=True)
    span = min(w.start for w in windows), max(w.end for w in windows)
    # Reads only the span's feeds, and of them only the keys its events ask for.
    asked = events[(times >= span[0]) & (times < span[1])][keys]
    clock = OnlineClock(store, settings.serving.feeds, *span, keys=asked)
    with ServiceProcess(config, profile=settings.serving.feature_store_yaml) as url:
        for window in sorted(windows, key=lambda w: w.start):
            chosen = events[(times >= window.start) & (times < window.end)]
            counts = replay_with_clock(clock, url, chosen, keys, settings.events.time_column)
            echo(
                f"replayed {window.name} window {window.start:%Y-%m-%d %H:%M} -> "
                f"{window.end:%H:%M}: {len(chosen)} events, {dict(counts)}"
            )
    return {window.name: monitor(settings, window.start, window.end) for window in windows}


def run_demo(settings: Settings, config: Path | None, echo: Callable[[str], None]) -> str:
    """The whole loop; returns the closing lines (report folders and decisions)."""
    from ontime.repo import apply_repo
    from simulator.runner import run_simulation
    from training.cycle import run_cycle
    from training.reviewed_build import build_reviewed_cases

    days = settings.simulation.days
    start = pd.Timestamp(settings.simulation.start)
    fault_day = days - 8
    clean_slate(settings)
    echo(f"simulating {days} days with {DEMO_FAULT} on days {fault_day}-{days}")
    run_simulation(settings, scenarios=[f"{DEMO_FAULT}:{fault_day}-{days}"])
    echo(apply_repo(settings.feature_repo, settings.profile).strip().splitlines()[-1])
    cutoff = (start + timedelta(days=fault_day - 4)).to_pydatetime()
    if settings.training.gate.reviewed_cases is not None:
        # The world is new, so nobody has reviewed its critical cases yet: sample them from
        # the window training leaves out (the last label_wait before the cutoff).
        cases = build_reviewed_cases(settings, cutoff=cutoff)
        echo(
            f"reviewed critical cases: {cases.cases} ({cases.late} late) from "
            f"{cases.start:%Y-%m-%d %H:%M} to {cases.end:%Y-%m-%d %H:%M}"
        )
    # No --force and no bootstrap reason: the first champion ships through the gates.
    result = run_cycle(settings, "demo", cutoff=cutoff)
    echo(result.gate)
    echo(f"model v{result.version}: {result.outcome} (champion {result.champion_after})")

    def day(offset: int, hour: int) -> datetime:
        return (start + timedelta(days=offset, hours=hour)).to_pydatetime()

    windows = [
        ReplayWindow("clean", day(fault_day - 3, 8), day(fault_day - 3, 20)),
        ReplayWindow("faulty", day(fault_day + 1, 8), day(fault_day + 1, 20)),
    ]
    summaries = serve_and_monitor(settings, config, windows, echo)
    lines = []
    for window in windows:
        summary = summaries[window.name]
        folder = settings.monitoring.reports_dir / summary.window["name"]
        lines.append(
            f"{window.name:>6} window: decision {summary.action} "
            f"({summary.decision.reason}); report {folder}"
        )
    return "\n".join(lines)
