"""Build a reviewed critical case set where no person has reviewed one yet (a new world).

The stand-in for a review: a seeded sample of critical-segment prediction events (one ask
per order) with known outcomes, from a window the model does not train on. By default that
window is the last ``label_wait`` before the cutoff: training leaves those events out. The
critical segment is judged on each event's features as of its prediction time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from ontime.errors import OntimeError
from ontime.features import entity_frame, historical_rows
from ontime.settings import Settings
from ontime.timeutil import utc_timestamp
from training.datatests import check_columns
from training.metrics import critical_mask

log = logging.getLogger(__name__)


@dataclass
class CaseSet:
    """Where the case set was written, how many cases (late ones) and from which window."""

    path: Path
    cases: int
    late: int
    start: datetime
    end: datetime


def build_reviewed_cases(
    settings: Settings,
    cutoff: datetime | None = None,
    start: datetime | None = None,
    size: int = 100,
    seed: int = 0,
    out: Path | None = None,
) -> CaseSet:
    """Sample critical cases from ``[start, cutoff)`` and write them where the gate reads.

    ``cutoff`` defaults to the newest label's arrival (as training's does), ``start`` to
    ``cutoff - label_wait``. Outcomes are taken as finally known (a review happens later).
    """
    from ontime.repo import describe_service, load_contract, open_store

    gate = settings.training.gate
    target = out or gate.reviewed_cases
    if target is None:
        raise OntimeError("set training.gate.reviewed_cases in ontime.yaml (or pass --out)")
    path = Path(target)
    if not gate.critical_segment:
        raise OntimeError("set training.gate.critical_segment: it says which cases are critical")
    if size < 1:
        raise OntimeError(f"--size must be at least 1, got {size}")
    events_cfg, labels_cfg = settings.events, settings.labels
    events = pd.read_parquet(events_cfg.table)
    labels = pd.read_parquet(labels_cfg.table)
    check_columns(labels, [labels_cfg.join_key, labels_cfg.column, labels_cfg.available_at],
                  "the label table")  # fmt: skip
    end = utc_timestamp(cutoff or pd.to_datetime(labels[labels_cfg.available_at], utc=True).max())
    begin = utc_timestamp(start) if start else end - settings.training.label_wait
    times = pd.to_datetime(events[events_cfg.time_column], utc=True)
    window = events.loc[(times >= begin) & (times < end)]
    known = labels[[labels_cfg.join_key, labels_cfg.column]]
    window = window.merge(known, on=labels_cfg.join_key, how="inner", validate="many_to_one")
    if window.empty:
        raise OntimeError(f"no prediction events with a known outcome in [{begin}, {end})")
    # One ask per order, chosen at random: a reviewer looks at an order once.
    window = window.sample(frac=1.0, random_state=seed).drop_duplicates(labels_cfg.join_key)

    store = open_store(settings.feature_repo, settings.profile)
    spec = describe_service(store, settings.feature_service)
    contract = load_contract(settings.feature_repo)
    window = window.reset_index(drop=True)
    entities = entity_frame(window, spec, events_cfg.time_column, contract.request_time_field)
    rows = historical_rows(store, spec, entities)
    absent = [c for c in gate.critical_segment if c not in rows.columns and c not in window]
    if absent:
        raise OntimeError(f"critical segment column(s) {absent} are neither features nor events")
    judged = rows.assign(**{c: window[c] for c in gate.critical_segment if c in window})
    critical = window.loc[critical_mask(judged, gate.critical_segment)]
    if critical.empty:
        raise OntimeError(f"no critical-segment events in [{begin}, {end})")
    chosen = critical.sample(n=min(size, len(critical)), random_state=seed)
    columns = [*spec.entity_keys, events_cfg.time_column, labels_cfg.column]
    cases = chosen[columns].sort_values(events_cfg.time_column).reset_index(drop=True)
    cases[labels_cfg.column] = cases[labels_cfg.column].astype(bool)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".csv":
        cases.to_csv(path, index=False)
    else:
        cases.to_parquet(path, index=False)
    late = int(cases[labels_cfg.column].sum())
    log.info("wrote %s reviewed cases (%s late) to %s", len(cases), late, path)
    return CaseSet(path, len(cases), late, begin.to_pydatetime(), end.to_pydatetime())
